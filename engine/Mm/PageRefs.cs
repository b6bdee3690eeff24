using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Engine.Mm;

/// <summary>Taking page references (include/linux/mm.h): <c>get_page</c> and <c>get_page_unless_zero</c>.</summary>
internal sealed class PageRefs(PageTable pages, Sanitizer sanitizer)
{
    /// <summary>get_page: the caller already holds a reference (VM_BUG_ON_PAGE otherwise).</summary>
    public void GetPage(int page)
    {
        if (pages.Count[page] <= 0)
            sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(atomic_read(&page->_count) <= 0): get_page on pfn {page} with _count {pages.Count[page]}");
        pages.Count[page]++;
    }

    /// <summary>get_page_unless_zero: a speculative reference, refused on a free page.</summary>
    public bool GetPageUnlessZero(int page)
    {
        if (pages.Count[page] == 0) return false;
        pages.Count[page]++;
        return true;
    }
}
