using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_18;

/// <summary>
/// Balloon pages after "mm/balloon_compaction: redesign ballooned pages management" (d6d86c0), as in v3.18
/// (TROVON v3.18 balloon_compaction.c; OpenVZ balloon_compaction.h): PageBalloon = <c>_mapcount == -256</c>,
/// PG_private = "on the balloon list", <c>page-&gt;private</c> = the device. Every test reads the struct page
/// only; the authoritative one is repeated under the page lock.
/// </summary>
[KernelPart("balloon identity", PartVersion.V3_18)]
internal sealed partial class PageBalloonIdentity(BalloonDevInfo dev, PageTable pages, PageLists lists, PageBalloonType pageBalloon) : IBalloonPageIdentity, IBalloonMovability
{
    /// <summary>balloon_page_movable (v3.18): PageBalloon &amp;&amp; PagePrivate.</summary>
    public bool Movable(int page) => pages.PageBalloon(page) && pages.PagePrivate(page);

    /// <summary>__is_movable_balloon_page (v3.18): PageBalloon.</summary>
    public bool IsMovableBalloonPage(int page) => pages.PageBalloon(page);

    /// <summary>isolated_balloon_page (v3.18): PageBalloon.</summary>
    public bool IsolatedBalloonPage(int page) => pages.PageBalloon(page);

    /// <summary>balloon_page_isolate's re-check (v3.18): balloon_page_movable under the page lock.</summary>
    public bool IsolationRecheck(int page) => Movable(page);

    /// <summary>balloon_page_insert (v3.18): __SetPageBalloon, SetPagePrivate, private = the device.</summary>
    public void Mark(int page)
    {
        pageBalloon.Set(page);
        pages.Set(page, PG.Private);
        pages.Private[page] = BalloonDevInfo.Id;
    }

    /// <summary>balloon_page_delete (v3.18): __ClearPageBalloon, private = 0, and off the list only if still listed (PG_private).</summary>
    public void Delete(int page)
    {
        pageBalloon.Clear(page);
        pages.Private[page] = 0;
        if (!pages.PagePrivate(page)) return;
        pages.Clear(page, PG.Private);
        lists.Del(page);
    }

    /// <summary>__isolate_balloon_page (v3.18): ClearPagePrivate.</summary>
    public void OnIsolate(int page) => pages.Clear(page, PG.Private);

    /// <summary>__putback_balloon_page (v3.18): SetPagePrivate.</summary>
    public void OnPutback(int page) => pages.Set(page, PG.Private);

    /// <summary>balloon_page_device (v3.18): <c>page-&gt;private</c>.</summary>
    public int Device(int page) => pages.Private[page];

    /// <summary>balloon_page_migrate (v3.18): <c>balloon_page_device(page)-&gt;migratepage</c>.</summary>
    [Preemptible]
    public int CallMigratepage(int newpage, int page, MigrateMode mode) =>
        Device(page) == BalloonDevInfo.Id && dev.MigratePage is { } driver ? driver.MigratePage(newpage, page, mode) : MigrateRc.EAgain;

    public bool HasBalloonIdentity(int page) => pages.PageBalloon(page);

    /// <summary>A listed v3.18 balloon page is isolatable only with PG_private; without it the scanner and dequeue both skip it.</summary>
    public bool ListedPageMovable(int page) => Movable(page);

    /// <summary>The first page of the run that is not PageBalloon (a vector search) or lacks PG_private.</summary>
    public int FirstUnmovableListed(int from, int to)
    {
        int notBalloon = pages.MapCount.AsSpan()[from..to].IndexOfAnyExcept(PageTable.PageBalloonMapcountValue);
        int end = notBalloon < 0 ? to : from + notBalloon;
        var flags = pages.Flags.AsSpan();
        for (int page = from; page < end; page++)
            if ((flags[page] & (uint)PG.Private) == 0) return page;
        return end;
    }
}
