using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// The pageblock skip hints and cached scanner positions of 6.1 mm/compaction.c (docs/kernel/v6.1.md §3.3):
/// isolation_suitable, test_and_set_skip, update_cached_migrate, update_pageblock_skip, reset_cached_positions and the
/// sampling __reset_isolation_suitable, which clears a block's skip bit only where every 8th page shows an LRU page
/// (source) or a free page in a MOVABLE block (target). <c>no_set_skip_hint</c> is alloc_contig_range's and never set here.
/// </summary>
internal sealed partial class PageblockSkip(PageTable pages, Scheduler scheduler)
{
    /// <summary>isolation_suitable: the pageblock's skip bit is clear, or skip hints are ignored.</summary>
    public static bool IsolationSuitable(CompactControl cc, int pfn) => cc.IgnoreSkipHint || !GetSkip(cc.Zone, pfn);

    public static bool GetSkip(Zone zone, int pfn) => zone.PageblockSkip[zone.PageblockIndex(pfn)];

    public static void SetSkip(Zone zone, int pfn) => zone.PageblockSkip[zone.PageblockIndex(pfn)] = true;

    /// <summary>test_and_set_skip: at a pageblock-aligned PFN (unless skip hints are ignored), the old skip bit, now set.</summary>
    public static bool TestAndSetSkip(CompactControl cc, int pfn)
    {
        if (cc.IgnoreSkipHint || !PageblockAligned(pfn)) return false;
        bool skip = GetSkip(cc.Zone, pfn);
        if (!skip) SetSkip(cc.Zone, pfn);
        return skip;
    }

    /// <summary>update_cached_migrate: both migrate caches (only the async one for async compaction) move up to the end of the block.</summary>
    public static void UpdateCachedMigrate(CompactControl cc, int pfn)
    {
        pfn = PageblockEndPfn(pfn);
        var cached = cc.Zone.CompactCachedMigratePfn;
        if (pfn > cached[0]) cached[0] = pfn;
        if (cc.Mode != MigrateMode.Async && pfn > cached[1]) cached[1] = pfn;
    }

    /// <summary>update_pageblock_skip: the block's skip bit set; the cached free scanner position lowered to it.</summary>
    public static void UpdatePageblockSkip(CompactControl cc, int pfn)
    {
        SetSkip(cc.Zone, pfn);
        if (pfn < cc.Zone.CompactCachedFreePfn) cc.Zone.CompactCachedFreePfn = pfn;
    }

    /// <summary>reset_cached_positions: the migrate scanner at the zone start, the free scanner at its last pageblock.</summary>
    public static void ResetCachedPositions(Zone zone)
    {
        zone.CompactCachedMigratePfn[0] = zone.StartPfn;
        zone.CompactCachedMigratePfn[1] = zone.StartPfn;
        zone.CompactCachedFreePfn = PageblockStartPfn(zone.EndPfn - 1);
    }

    /// <summary>
    /// __reset_isolation_suitable (6.1): only if the zone is due for a flush (which it clears). The migrate side walks up
    /// and the free side down, a pageblock a step, until they meet; a block whose sample finds a source (LRU page) or a
    /// target (free page) has its skip bit cleared, and the lowest source / highest target become the initial and cached
    /// scanner positions. If none crossed usefully, the caches are left where the walks met.
    /// </summary>
    [Preemptible]
    public void ResetIsolationSuitable(Zone zone)
    {
        int migratePfn = zone.StartPfn, freePfn = zone.EndPfn - 1;
        int resetMigrate = freePfn, resetFree = migratePfn;
        bool sourceSet = false, freeSet = false;
        if (!zone.CompactBlockskipFlush) return;
        zone.CompactBlockskipFlush = false;
        for (; migratePfn < freePfn; migratePfn += Zone.PageblockNrPages, freePfn -= Zone.PageblockNrPages)
        {
            scheduler.Preempt("__reset_isolation_suitable");
            if (ResetIsolationPfn(zone, migratePfn, true, sourceSet) && migratePfn < resetMigrate)
            {
                sourceSet = true;
                resetMigrate = migratePfn;
                zone.CompactInitMigratePfn = resetMigrate;
                zone.CompactCachedMigratePfn[0] = resetMigrate;
                zone.CompactCachedMigratePfn[1] = resetMigrate;
            }
            if (ResetIsolationPfn(zone, freePfn, freeSet, true) && freePfn > resetFree)
            {
                freeSet = true;
                resetFree = freePfn;
                zone.CompactInitFreePfn = resetFree;
                zone.CompactCachedFreePfn = resetFree;
            }
        }
        if (resetMigrate >= resetFree)
        {
            zone.CompactCachedMigratePfn[0] = migratePfn;
            zone.CompactCachedMigratePfn[1] = migratePfn;
            zone.CompactCachedFreePfn = freePfn;
        }
    }

    /// <summary>
    /// __reset_isolation_pfn: not for a block a huge compound page occupies (pageblock_skip_persistent); done at once if
    /// both sides are checked and the bit is clear; a target-only check needs a MOVABLE block; then every 8th page of the
    /// block is sampled for an LRU page (source) or a free page (target), and the first one found clears the skip bit.
    /// </summary>
    private bool ResetIsolationPfn(Zone zone, int pfn, bool checkSource, bool checkTarget)
    {
        if (PageblockSkipPersistent(pfn)) return false;
        if (checkSource && checkTarget && !GetSkip(zone, pfn)) return true;
        if (!checkSource && checkTarget && zone.GetPageblockMigratetype(pfn) != zone.Types.Movable) return false;
        int page = Math.Max(PageblockStartPfn(pfn), zone.StartPfn);
        int endPage = Math.Min(PageblockEndPfn(pfn) - 1, zone.EndPfn - 1);
        for (; page <= endPage; page += 1 << PageAlloc.V6_1.PageAllocator.CostlyOrder)
        {
            if ((checkSource && pages.PageLru(page)) || (checkTarget && pages.PageBuddy(page)))
            {
                zone.PageblockSkip[zone.PageblockIndex(page)] = false;
                return true;
            }
        }
        return false;
    }

    /// <summary>pageblock_skip_persistent: the page belongs to a compound page of pageblock order or more (its blocks are never reset).</summary>
    public bool PageblockSkipPersistent(int pfn)
    {
        int head = CompoundHead(pfn);
        return head >= 0 && pages.Private[head + 1] >= Zone.PageblockOrder;
    }

    /// <summary>compound_head: the page itself if PG_head, the aligned head of its compound page if PG_tail, else -1.</summary>
    public int CompoundHead(int pfn)
    {
        if (pages.Test(pfn, PG.Head)) return pfn;
        if (!pages.Test(pfn, PG.Tail)) return -1;
        for (int order = 1; order < Zone.MaxOrder; order++)
        {
            int head = pfn & ~((1 << order) - 1);
            if (pages.Test(head, PG.Head) && pages.Private[head + 1] == order) return head;
        }
        return -1;
    }

    public static bool PageblockAligned(int pfn) => (pfn & (Zone.PageblockNrPages - 1)) == 0;
    public static int PageblockStartPfn(int pfn) => pfn & ~(Zone.PageblockNrPages - 1);
    public static int PageblockEndPfn(int pfn) => PageblockStartPfn(pfn) + Zone.PageblockNrPages;
}
