using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// Balloon compaction as merged for v3.8 and kept until v3.17 (TROVON v3.16 balloon_compaction.c and
/// virtio_balloon.c; iamroot11c include/linux/balloon_compaction.h). A balloon page is an ordinary page
/// whose <c>mapping</c> points at a fake address_space with AS_BALLOON_MAP; it is recognised by "no flag set,
/// not mapped, one reference, mapping has AS_BALLOON_MAP", tested without any lock. The four defects the
/// redesign fixed are all here: the lockless <c>mapping-&gt;flags</c> read (1), the migration branch that never
/// fires and a successful migration that leaves <c>newpage-&gt;mapping</c> NULL (2), isolation only while the
/// scanner holds lru_lock (3), and a dequeue that takes pages compaction has isolated (4).
/// </summary>
internal sealed class LegacyBalloon : BalloonCompaction
{
    private const ulong AsBalloonMapBit = 1UL << MappingTable.AsBalloonMap;
    private readonly MappingTable _mappings;

    public LegacyBalloon(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock, BuddyAllocator buddy,
        Node node, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler, MappingTable mappings)
        : base(dev, pages, lists, pageLock, buddy, node, vmstat, sanitizer, scheduler)
    {
        _mappings = mappings;
        // balloon_mapping_alloc (virtballoon_probe): AS_BALLOON_MAP set, private_data = the device,
        // a_ops->migratepage = virtballoon_migratepage.
        dev.Mapping = mappings.NewAddressSpace(AsBalloonMapBit, BalloonDevInfo.Id, MigratePageOp.Balloon);
    }

    /// <summary>
    /// balloon_page_movable (v3.16): page_flags_cleared, !page_mapped, page_count == 1, then
    /// <c>mapping_balloon(page-&gt;mapping)</c>. Five separate unlocked reads; another CPU may run between
    /// any two, e.g. <c>move_to_new_page</c> storing an anon_vma in <c>mapping</c> (defect 1).
    /// </summary>
    public override bool BalloonPageMovable(int page)
    {
        using var _ = Enter("balloon_page_movable");
        if (!Pages.PageFlagsCleared(page)) return false;
        Scheduler.Preempt("balloon_page_movable: page->flags read");
        if (Pages.PageMapped(page)) return false;
        Scheduler.Preempt("balloon_page_movable: page->_mapcount read");
        if (Pages.Count[page] != 1) return false;
        Scheduler.Preempt("balloon_page_movable: page->_count read");
        int mapping = Pages.Mapping[page];
        Scheduler.Preempt("balloon_page_movable: page->mapping read");
        return MappingBalloon(mapping, page);
    }

    /// <summary>__is_movable_balloon_page (v3.16): <c>mapping_balloon(page-&gt;mapping)</c>, dereferencing it.</summary>
    public override bool IsMovableBalloonPage(int pfn) => MappingBalloon(Pages.Mapping[pfn], pfn);

    /// <summary>v3.16 unmap_and_move does not look at newpage: it always goes to putback_lru_page.</summary>
    public override bool NewPageIsBalloon(int newpage, bool saved) => false;

    /// <summary>isolated_balloon_page (v3.16): flags clear, not mapped, page_count &gt;= 2, balloon mapping.</summary>
    public override bool IsolatedBalloonPage(int pfn) =>
        Pages.PageFlagsCleared(pfn) && !Pages.PageMapped(pfn) && Pages.Count[pfn] >= 2 && IsMovableBalloonPage(pfn);

    /// <summary>isolate_migratepages_range (v3.16): <c>balloon_page_movable(page)</c>, then <c>locked &amp;&amp; balloon_page_isolate(page)</c> (defect 3).</summary>
    public override bool IsolateFromScanner(int pfn, bool lruLocked) =>
        BalloonPageMovable(pfn) && lruLocked && BalloonPageIsolate(pfn);

    /// <summary>
    /// __unmap_and_move (v3.16): <c>balloon_page_movable(page)</c> on a page migration has locked and
    /// isolation holds a reference to: PG_locked is set and the count is 2, so never true (defect 2).
    /// </summary>
    public override bool MigrationBranch(int page) => BalloonPageMovable(page);

    /// <summary><c>a_ops-&gt;migratepage</c> of the fake balloon mapping, reached from move_to_new_page.</summary>
    public override int MappingMigratePage(int mapping, int newpage, int page, MigrateMode mode) =>
        _mappings.MigratePage(mapping) == MigratePageOp.Balloon && Dev.MigratePage is { } migratepage
            ? migratepage(newpage, page, mode)
            : MigrateRc.EAgain;

    /// <summary>
    /// unmap_and_move (v3.16), rc == MIGRATEPAGE_BALLOON_SUCCESS: the old page leaves the isolated count
    /// (balloon pages are "file": no PG_swapbacked) and is freed with balloon_page_free.
    /// </summary>
    public override bool HandleBalloonSuccess(int rc, int page)
    {
        if (rc != MigrateRc.BalloonSuccess) return false;
        var stat = Pages.Test(page, PG.SwapBacked) ? ZoneStat.NrIsolatedAnon : ZoneStat.NrIsolatedFile;
        Node.ZoneOf(page).Stat[(int)stat]--;
        BalloonPageFree(page);
        return true;
    }

    /// <summary>balloon_page_delete (v3.16): mapping NULL and list_del from whatever list the page is on.</summary>
    public override void BalloonPageDelete(int page)
    {
        Pages.Mapping[page] = 0;
        Lists.Del(page);
    }

    /// <summary>balloon_page_free: drop the extra reference of isolation or dequeue, then the page's own.</summary>
    public void BalloonPageFree(int page)
    {
        using var _ = Enter("balloon_page_free");
        Buddy.PutPage(page);
        Buddy.PutPage(page);
    }

    /// <summary>release_pages_by_pfn (v3.16): balloon_page_free.</summary>
    public override void ReleasePage(int page) => BalloonPageFree(page);

    /// <summary>virtballoon_migratepage (v3.16) returns MIGRATEPAGE_BALLOON_SUCCESS; the old page keeps its references for unmap_and_move.</summary>
    public override int MigratepageFinish(int page) => MigrateRc.BalloonSuccess;

    public override bool HasBalloonIdentity(int pfn) => Dev.Mapping != 0 && Pages.Mapping[pfn] == Dev.Mapping;

    /// <summary>balloon_page_isolate's re-check (v3.16): balloon mapping and exactly the balloon's and our reference.</summary>
    protected override bool IsolationRecheck(int page) => IsMovableBalloonPage(page) && Pages.Count[page] == 2;

    /// <summary>balloon_page_insert (v3.16): <c>page-&gt;mapping</c> = the balloon mapping.</summary>
    protected override void MarkBalloon(int page) => Pages.Mapping[page] = Dev.Mapping;

    /// <summary>balloon_page_dequeue (v3.16): get_page, so a racing isolation sees _count &gt;= 3 and backs off.</summary>
    protected override void DequeueGetPage(int page) => GetPage(page);

    /// <summary>balloon_page_migrate (v3.16): <c>page-&gt;mapping-&gt;a_ops-&gt;migratepage</c> if there is a mapping.</summary>
    protected override int CallMigratepage(int newpage, int page, MigrateMode mode)
    {
        int mapping = Pages.Mapping[page];
        return mapping != 0 ? MappingMigratePage(mapping, newpage, page, mode) : MigrateRc.EAgain;
    }

    /// <summary>balloon_page_device (v3.16): <c>page-&gt;mapping-&gt;private_data</c>; only the balloon mapping has ours.</summary>
    protected override int DeviceId(int page) => Pages.Mapping[page] is var mapping and not 0 ? _mappings.PrivateData(mapping) : 0;

    /// <summary>mapping_balloon: a non-NULL mapping whose <c>flags</c> have AS_BALLOON_MAP (a KASAN report if it is not an address_space).</summary>
    private bool MappingBalloon(int mapping, int page) =>
        mapping != 0 && (_mappings.ReadFlags(mapping, page) & AsBalloonMapBit) != 0;
}
