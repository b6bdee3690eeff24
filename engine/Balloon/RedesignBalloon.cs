using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// Balloon compaction after "mm/balloon_compaction: redesign ballooned pages management" (d6d86c0, v3.18),
/// as in v3.18 (TROVON v3.18 balloon_compaction.c and virtio_balloon.c; OpenVZ balloon_compaction.h):
/// PageBalloon = <c>_mapcount == -256</c>, PG_private = "on the balloon list", <c>page-&gt;private</c> = the
/// device, and the balloon's own reference on every page. Isolation needs no lru_lock; dequeue skips pages
/// without PG_private. The dequeue walk still runs without pages_lock, so its saved next entry can be
/// isolated under it (the residual race fixed in v4.5, <see cref="FixedBalloon"/>).
/// </summary>
internal class RedesignBalloon(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock, BuddyAllocator buddy,
    Node node, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler)
    : BalloonCompaction(dev, pages, lists, pageLock, buddy, node, vmstat, sanitizer, scheduler)
{
    /// <summary>balloon_page_movable (v3.18): PageBalloon &amp;&amp; PagePrivate; reads only the struct page.</summary>
    public override bool BalloonPageMovable(int page) => Pages.PageBalloon(page) && Pages.PagePrivate(page);

    /// <summary>__is_movable_balloon_page (v3.18): PageBalloon.</summary>
    public override bool IsMovableBalloonPage(int pfn) => Pages.PageBalloon(pfn);

    /// <summary>v3.18 unmap_and_move: <c>__is_movable_balloon_page(newpage)</c> → put_page (racy until 2019, as merged).</summary>
    public override bool NewPageIsBalloon(int newpage, bool saved) => Pages.PageBalloon(newpage);

    /// <summary>isolated_balloon_page (v3.18): PageBalloon.</summary>
    public override bool IsolatedBalloonPage(int pfn) => Pages.PageBalloon(pfn);

    /// <summary>isolate_migratepages_block (v3.18): <c>balloon_page_movable</c> then <c>balloon_page_isolate</c>, whatever lru_lock is doing.</summary>
    public override bool IsolateFromScanner(int pfn, bool lruLocked) => BalloonPageMovable(pfn) && BalloonPageIsolate(pfn);

    /// <summary>__unmap_and_move (v3.18): <c>isolated_balloon_page(page)</c>, true on an isolated, locked balloon page.</summary>
    public override bool MigrationBranch(int page) => IsolatedBalloonPage(page);

    /// <summary>v3.18 balloon pages have no mapping, so move_to_new_page never reaches a balloon a_ops.</summary>
    public override int MappingMigratePage(int mapping, int newpage, int page, MigrateMode mode) =>
        throw new InvalidOperationException("v3.18 balloon pages have no address_space: balloon migration goes through balloon_page_migrate");

    /// <summary>balloon_page_delete (v3.18): __ClearPageBalloon, private = 0, and off the list only if still listed (PG_private).</summary>
    public override void BalloonPageDelete(int page)
    {
        if (!Pages.PageBalloon(page))
            Sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(!PageBalloon(page)) in __ClearPageBalloon ({Pages.DumpPage(page)})");
        Pages.MapCount[page] = -1;
        Pages.Private[page] = 0;
        if (!Pages.PagePrivate(page)) return;
        Pages.Clear(page, PG.Private);
        Lists.Del(page);
    }

    /// <summary>release_pages_by_pfn (v3.18): put_page drops the balloon's reference.</summary>
    public override void ReleasePage(int page) => Buddy.PutPage(page);

    /// <summary>virtballoon_migratepage (v3.18): get_page(newpage), the balloon's reference on it.</summary>
    public override void MigratepageGetNewpage(int newpage) => GetPage(newpage);

    /// <summary>virtballoon_migratepage (v3.18): put_page(page) after balloon_lock is dropped; MIGRATEPAGE_SUCCESS.</summary>
    public override int MigratepageFinish(int page)
    {
        Buddy.PutPage(page);
        return MigrateRc.Success;
    }

    public override bool HasBalloonIdentity(int pfn) => Pages.PageBalloon(pfn);

    /// <summary>A listed v3.18 balloon page is isolatable only with PG_private; without it the scanner and dequeue both skip it.</summary>
    public override bool ListedPageMovable(int pfn) => BalloonPageMovable(pfn);

    /// <summary>balloon_page_isolate's re-check (v3.18): balloon_page_movable under the page lock.</summary>
    protected override bool IsolationRecheck(int page) => BalloonPageMovable(page);

    /// <summary>balloon_page_insert (v3.18): __SetPageBalloon, SetPagePrivate, private = the device.</summary>
    protected override void MarkBalloon(int page)
    {
        if (Pages.MapCount[page] != -1)
            Sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(atomic_read(&page->_mapcount) != -1) in __SetPageBalloon ({Pages.DumpPage(page)})");
        Pages.MapCount[page] = PageTable.PageBalloonMapcountValue;
        Pages.Set(page, PG.Private);
        Pages.Private[page] = BalloonDevInfo.Id;
    }

    /// <summary>__isolate_balloon_page (v3.18): ClearPagePrivate.</summary>
    protected override void LeaveList(int page) => Pages.Clear(page, PG.Private);

    /// <summary>__putback_balloon_page (v3.18): SetPagePrivate.</summary>
    protected override void ReturnToList(int page) => Pages.Set(page, PG.Private);

    /// <summary>balloon_page_dequeue (v3.18, CONFIG_BALLOON_COMPACTION): no PG_private = isolated; skip it.</summary>
    protected override bool RacedWithIsolation(int page) => !Pages.PagePrivate(page);

    /// <summary>balloon_page_migrate (v3.18): <c>balloon_page_device(page)-&gt;migratepage</c>.</summary>
    protected override int CallMigratepage(int newpage, int page, MigrateMode mode) =>
        DeviceId(page) == BalloonDevInfo.Id && Dev.MigratePage is { } migratepage ? migratepage(newpage, page, mode) : MigrateRc.EAgain;

    /// <summary>balloon_page_device (v3.18): <c>page-&gt;private</c>.</summary>
    protected override int DeviceId(int page) => Pages.Private[page];
}
