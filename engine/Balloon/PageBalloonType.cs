using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// PageBalloon as a <c>_mapcount</c> type (v3.18 to v4.17 include/linux/page-flags.h; PageOffline from v5.0):
/// <c>__SetPageBalloon</c> turns an unmapped page's -1 into -256, <c>__ClearPageBalloon</c> turns it back, each with
/// its VM_BUG_ON_PAGE.
/// </summary>
internal sealed class PageBalloonType(PageTable pages, Sanitizer sanitizer)
{
    /// <summary>__SetPageBalloon: <c>_mapcount</c> must be -1.</summary>
    public void Set(int page)
    {
        if (pages.MapCount[page] != -1) sanitizer.VmBugOnPage(page, "atomic_read(&page->_mapcount) != -1", "__SetPageBalloon", pages);
        pages.MapCount[page] = PageTable.PageBalloonMapcountValue;
    }

    /// <summary>__ClearPageBalloon: the page must be PageBalloon.</summary>
    public void Clear(int page)
    {
        if (!pages.PageBalloon(page)) sanitizer.VmBugOnPage(page, "!PageBalloon(page)", "__ClearPageBalloon", pages);
        pages.MapCount[page] = -1;
    }
}
