using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// The buddy allocator of 6.1 mm/page_alloc.c (docs/kernel/v6.1.md §2): get_page_from_freelist with ALLOC_NOFRAGMENT and
/// zone_watermark_fast on boosted marks; rmqueue through the per-cpu lists for orders 0–3 and pageblock order
/// (<see cref="PerCpuPagesets"/>, an optional layer as in v3.16) or rmqueue_buddy; __rmqueue_fallback with its
/// "smallest for movable" rule and steal_suitable_fallback (free pages moved to list tails, LRU and non-LRU movable pages
/// counted alike, boost_watermark); MIGRATE_HIGHATOMIC reserves; __free_one_page with compaction capture, no merging
/// across non-mergeable pageblocks above pageblock_order, and buddy_merge_likely; __isolate_free_page at the min mark.
/// Folio-based code is modelled for single pages and compound blocks as v3.16's is.
/// </summary>
[KernelPart("page allocator", PartVersion.V6_1)]
internal sealed partial class BuddyAllocator(PageTable pages, PageLists lists, Node node, Sanitizer sanitizer, VmStat vmstat, Scheduler scheduler,
    SimulationOptions options, WatermarkBoost boost, Lazy<IMovablePageIsolation> movable, PerCpuPagesets? pcp = null)
    : IBuddyAllocator, ISnapshotState
{
    /// <summary>free_pages_check, check_new_page and bad_page with 6.1's reason texts (page_bad_reason).</summary>
    public PageStateChecks Checks { get; } = new(pages, sanitizer, "nonzero _refcount", "PAGE_FLAGS_CHECK_AT_FREE flag(s) set",
        "PAGE_FLAGS_CHECK_AT_PREP flag(s) set");

    [NotState("helper: no guest state (it remembers only which host memory it made resident)")]
    private readonly FreeArea _area = new(pages, lists, sanitizer);

    /// <summary>zone_statistics: NUMA_HIT (= NUMA_LOCAL on the only node) per zone, one per allocation.</summary>
    private readonly long[] _numaHit = new long[node.Zones.Count];

    [NotState("set by a direct compaction for its own duration (compact_zone_order), empty between operations")]
    private readonly Dictionary<SimTask, CaptureControl> _captures = [];

    public object Save() => _numaHit.Clone();

    public void Restore(object saved) => ((long[])saved).CopyTo(_numaHit, 0);

    /// <summary>numa_hit (and numa_local) of <paramref name="zone"/>: allocations served from it.</summary>
    public long NumaHit(Zone zone) => _numaHit[zone.Index];

    /// <summary>Boot-time set-up (<see cref="MemoryInit"/>).</summary>
    public void Boot() => MemoryInit.Boot(node, this, lists, pcp, options, vmstat);

    /// <summary>pcp_allowed_order: orders up to PAGE_ALLOC_COSTLY_ORDER, and pageblock order (THP) on the per-cpu lists.</summary>
    public static bool PcpAllowedOrder(int order) => order <= PageAllocator.CostlyOrder || order == Zone.PageblockOrder;

    /// <summary>
    /// get_page_from_freelist (6.1): walk the zonelist from the highest zone down; a zone whose watermark
    /// (<c>wmark_pages</c>, boost included) passes zone_watermark_fast — or any zone with ALLOC_NO_WATERMARKS — is tried
    /// with rmqueue; the page is prepared (prep_new_page: a compound page with __GFP_COMP), and a high-order ALLOC_HARDER
    /// allocation may reserve its pageblock as MIGRATE_HIGHATOMIC. If every zone failed with ALLOC_NOFRAGMENT, the walk
    /// is repeated without it. Returns the first PFN (with <c>_count</c> 1), or -1.
    /// </summary>
    [Preemptible]
    public int GetPageFromFreelist(int order, Gfp gfp, int allocFlags)
    {
        int mt = MigrateType.FromGfp(gfp);
        var zones = node.Zones;
        int highest = zones.Count - 1;
        while (true)
        {
            bool noFallback = (allocFlags & AllocFlags.NoFragment) != 0;
            for (int i = highest; i >= 0; i--)
            {
                var zone = zones[i];
                long mark = zone.WmarkPages(allocFlags & AllocFlags.WmarkMask);
                if (!ZoneWatermarkFast(zone, order, mark, highest, allocFlags, gfp) && (allocFlags & AllocFlags.NoWatermarks) == 0) continue;
                int page = Rmqueue(zone, order, allocFlags, mt);
                if (page < 0) continue;
                if (order > 0 && (gfp & Gfp.Comp) != 0) Checks.PrepCompoundPage(page, order);
                if (order > 0 && (allocFlags & AllocFlags.Harder) != 0) ReserveHighatomicPageblock(page, zone);
                return page;
            }
            if (!noFallback) return -1;
            allocFlags &= ~AllocFlags.NoFragment;
        }
    }

    /// <summary>
    /// rmqueue (6.1): a per-cpu order from the running CPU's list (rmqueue_pcplist), else rmqueue_buddy; then, if a
    /// fallback boosted the zone's watermark (ZONE_BOOSTED_WATERMARK), clear the flag and wake kswapd.
    /// </summary>
    [Preemptible]
    public int Rmqueue(Zone zone, int order, int allocFlags, int mt)
    {
        int page = pcp is not null && PcpAllowedOrder(order) ? pcp.RmqueuePcplist(this, zone, order, mt, allocFlags) : -1;
        if (page < 0) page = RmqueueBuddy(zone, order, allocFlags, mt);
        if (page >= 0) CountAlloc(zone, 1 << order);
        if ((zone.Flags & ZoneFlags.BoostedWatermark) != 0)
        {
            zone.Flags &= ~ZoneFlags.BoostedWatermark;
            boost.WakeupKswapd(zone);
        }
        return page;
    }

    /// <summary>PGALLOC of the zone, and zone_statistics (one node: every allocation is a NUMA hit).</summary>
    private void CountAlloc(Zone zone, int pages)
    {
        vmstat.Count(VmEvent.PgallocDma + zone.Index, pages);
        _numaHit[zone.Index]++;
    }

    /// <summary>
    /// rmqueue_buddy (6.1): under zone-&gt;lock, a high-order ALLOC_HARDER request first tries the HIGHATOMIC lists, then
    /// __rmqueue; NR_FREE_PAGES drops by the block. A block that fails check_new_pages is leaked and another taken; one
    /// that comes back could not be taken off its free list (already reported): the allocation fails instead of
    /// retrying it forever.
    /// </summary>
    [Preemptible]
    private int RmqueueBuddy(Zone zone, int order, int allocFlags, int mt)
    {
        for (int bad = -1; ; )
        {
            zone.Lock.Lock();
            int page = -1;
            if (order > 0 && (allocFlags & AllocFlags.Harder) != 0) page = RmqueueSmallest(zone, order, MigrateType.HighAtomic);
            if (page < 0) page = RmqueueLocked(zone, order, mt, allocFlags);
            if (page >= 0) zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << order));
            zone.Lock.Unlock();
            if (page == bad) return -1;
            if (page < 0 || Checks.PrepNewPage(page, order)) return page;
            bad = page;
        }
    }

    /// <summary>
    /// __rmqueue (6.1; the caller holds zone-&gt;lock): the smallest block of the type, else a fallback moves a block (or
    /// a whole pageblock) onto the type's lists and the search is repeated. No CMA area exists, so __rmqueue_cma is never
    /// reached.
    /// </summary>
    public int RmqueueLocked(Zone zone, int order, int mt, int allocFlags)
    {
        while (true)
        {
            int page = RmqueueSmallest(zone, order, mt);
            if (page >= 0 || !RmqueueFallback(zone, order, mt, allocFlags)) return page;
        }
    }

    /// <summary>
    /// rmqueue_bulk's order-0 pages a block at a time (<see cref="FreeArea.RmqueueSmallestRun"/>). Each page taken off an
    /// order-0 list, or the head of the block split above order 0, was a free block on a list: del_page_from_free_list
    /// clears its PG_reported (set on order-0 pages when page_reporting_order is 0; never inside a block).
    /// </summary>
    public int RmqueueSmallestRun(Zone zone, int mt, int max, ref int tail, int head)
    {
        int page = tail;
        int taken = _area.RmqueueSmallestRun(zone, mt, max, ref tail, head);
        if (_reporting is not null)
            for (int i = 0; i < taken; i++) ClearPageReported(page = lists.Next(page));
        return taken;
    }

    /// <summary>
    /// The device that free page reporting reports to (pr_dev_info), set by page_reporting_register; with it the static
    /// key page_reporting_enabled, which makes __free_one_page notify and del_page_from_free_list clear PG_reported.
    /// </summary>
    [NotState("wiring: set once, at the balloon driver's probe")]
    private PageReporting? _reporting;

    /// <summary>page_reporting_register's rcu_assign_pointer(pr_dev_info) and static_branch_enable(&amp;page_reporting_enabled).</summary>
    public void EnablePageReporting(PageReporting reporting) => _reporting = reporting;

    /// <summary>The page_reported test and __ClearPageReported of del_page_from_free_list.</summary>
    private void ClearPageReported(int page)
    {
        if (_reporting is not null && pages.Test(page, PG.Reported)) pages.Clear(page, PG.Reported);
    }

    /// <summary>__rmqueue_smallest: the head of the first non-empty list of the type, order upwards; expand; the page's pcp migratetype recorded.</summary>
    public int RmqueueSmallest(Zone zone, int order, int mt)
    {
        for (int o = order; o < Zone.MaxOrder; o++)
        {
            int head = zone.FreeList(o, mt);
            if (lists.Empty(head)) continue;
            int page = lists.Next(head);
            DelPageFromFreeList(page, zone, o);
            _area.Expand(zone, page, order, o, mt);
            pages.Index[page] = mt; // set_pcppage_migratetype
            return page;
        }
        return -1;
    }

    /// <summary>
    /// del_page_from_free_list: PG_reported cleared (page_reported: only once reporting is enabled), off its list,
    /// PageBuddy and the order cleared, nr_free lowered.
    /// </summary>
    private void DelPageFromFreeList(int page, Zone zone, int order)
    {
        ClearPageReported(page);
        lists.Del(page);
        pages.RmvPageOrder(page);
        zone.NrFree.Add(order, -1);
    }

    /// <summary>
    /// __rmqueue_fallback (6.1): from the largest order down to the request's (to pageblock order with
    /// ALLOC_NOFRAGMENT), the first order with a suitable fallback type. A movable request that cannot steal the block
    /// takes the smallest such block instead. The head block of that list is stolen (steal_suitable_fallback), so the
    /// caller's retry of __rmqueue_smallest finds it. False if no fallback exists.
    /// </summary>
    public bool RmqueueFallback(Zone zone, int order, int startMt, int allocFlags)
    {
        int minOrder = order < Zone.PageblockOrder && (allocFlags & AllocFlags.NoFragment) != 0 ? Zone.PageblockOrder : order;
        int o, fallbackMt = -1;
        bool canSteal = false;
        for (o = Zone.MaxOrder - 1; o >= minOrder; o--)
        {
            fallbackMt = FindSuitableFallback(lists, zone, o, startMt, onlyStealable: false, out canSteal);
            if (fallbackMt != -1) break;
        }
        if (o < minOrder) return false;
        if (!canSteal && startMt == MigrateType.Movable && o > order)
            for (o = order; o < Zone.MaxOrder; o++)
            {
                fallbackMt = FindSuitableFallback(lists, zone, o, startMt, onlyStealable: false, out canSteal);
                if (fallbackMt != -1) break;
            }
        StealSuitableFallback(zone, lists.Next(zone.FreeList(o, fallbackMt)), allocFlags, startMt, canSteal);
        return true;
    }

    /// <summary>
    /// find_suitable_fallback: the first fallback type of <paramref name="mt"/> with a free block of this order (with
    /// <paramref name="onlyStealable"/>, only if the whole block may be stolen); -1 if none. Compaction's
    /// __compact_finished asks it too.
    /// </summary>
    public static int FindSuitableFallback(PageLists lists, Zone zone, int order, int mt, bool onlyStealable, out bool canSteal)
    {
        canSteal = false;
        if (zone.NrFree[order] == 0) return -1;
        foreach (int fallback in MigrateType.Fallbacks[mt])
        {
            if (lists.Empty(zone.FreeList(order, fallback))) continue;
            if (CanStealFallback(order, mt)) canSteal = true;
            if (!onlyStealable || canSteal) return fallback;
        }
        return -1;
    }

    /// <summary>can_steal_fallback: a pageblock-sized block, half a pageblock or more, or any unmovable/reclaimable request.</summary>
    private static bool CanStealFallback(int order, int startMt) =>
        order >= Zone.PageblockOrder / 2 || startMt is MigrateType.Reclaimable or MigrateType.Unmovable;

    /// <summary>
    /// steal_suitable_fallback (6.1): a HIGHATOMIC block gives only this page; a block of pageblock order or more is
    /// relabelled whole. Otherwise boost the zone's watermark (flagging ZONE_BOOSTED_WATERMARK for ALLOC_KSWAPD), and if
    /// the whole block may be stolen, move its free pages to the tails of the new type's lists and relabel the block when
    /// free and compatible pages make half of it: for a movable request the LRU and non-LRU movable pages, for another
    /// request out of a MOVABLE block every page that is neither. Otherwise only this page moves (to the list tail).
    /// </summary>
    private void StealSuitableFallback(Zone zone, int page, int allocFlags, int startType, bool wholeBlock)
    {
        int currentOrder = pages.PageOrder(page);
        int oldBlockType = zone.GetPageblockMigratetype(page);
        if (oldBlockType != MigrateType.HighAtomic)
        {
            if (currentOrder >= Zone.PageblockOrder)
            {
                for (int p = page; p < page + (1 << currentOrder); p += Zone.PageblockNrPages) zone.SetPageblockMigratetype(p, startType);
            }
            else
            {
                if (boost.BoostWatermark(zone) && (allocFlags & AllocFlags.Kswapd) != 0) zone.Flags |= ZoneFlags.BoostedWatermark;
                if (wholeBlock)
                {
                    int free = MoveFreepagesBlock(zone, page, startType, out int movablePages);
                    int alike = startType == MigrateType.Movable ? movablePages
                        : oldBlockType == MigrateType.Movable ? Zone.PageblockNrPages - (free + movablePages) : 0;
                    if (free != 0)
                    {
                        if (free + alike >= Zone.PageblockNrPages / 2) zone.SetPageblockMigratetype(page, startType);
                        return;
                    }
                }
            }
        }
        lists.MoveTail(page, zone.FreeList(currentOrder, startType)); // move_to_free_list
    }

    /// <summary>move_freepages_block: the pageblock around <paramref name="pfn"/>, clipped at the zone start; 0 if it crosses the zone end.</summary>
    public int MoveFreepagesBlock(Zone zone, int pfn, int mt, out int movablePages)
    {
        movablePages = 0;
        int startPfn = pfn & ~(Zone.PageblockNrPages - 1);
        int endPfn = startPfn + Zone.PageblockNrPages - 1;
        if (!zone.Spans(startPfn)) startPfn = pfn;
        if (!zone.Spans(endPfn)) return 0;
        int moved = 0;
        for (int p = startPfn; p <= endPfn;)
        {
            if (!pages.PageBuddy(p))
            {
                if (pages.PageLru(p) || movable.Value.PageMovable(p)) movablePages++;
                p++;
                continue;
            }
            int order = pages.PageOrder(p);
            lists.MoveTail(p, zone.FreeList(order, mt));
            p += 1 << order;
            moved += 1 << order;
        }
        return moved;
    }

    /// <summary>
    /// reserve_highatomic_pageblock: a zone may keep about 1% of its pages (at least a pageblock, and only if 1% is a
    /// pageblock or more) in MIGRATE_HIGHATOMIC pageblocks; the block of a high-order atomic allocation becomes one, if it
    /// is of a mergeable type, with its free pages moved along.
    /// </summary>
    [Preemptible]
    private void ReserveHighatomicPageblock(int page, Zone zone)
    {
        if (zone.ManagedPages / 100 < Zone.PageblockNrPages) return;
        long maxManaged = (zone.ManagedPages / 100 + Zone.PageblockNrPages - 1) & ~(long)(Zone.PageblockNrPages - 1);
        if (zone.NrReservedHighatomic >= maxManaged) return;
        zone.Lock.Lock();
        int mt = zone.GetPageblockMigratetype(page);
        if (zone.NrReservedHighatomic < maxManaged && MigrateType.IsMergeable(mt))
        {
            zone.NrReservedHighatomic += Zone.PageblockNrPages;
            zone.SetPageblockMigratetype(page, MigrateType.HighAtomic);
            MoveFreepagesBlock(zone, page, MigrateType.HighAtomic, out _);
        }
        zone.Lock.Unlock();
    }

    /// <summary>
    /// unreserve_highatomic_pageblock: walk the zonelist; a zone keeps its last reserved pageblock unless
    /// <paramref name="force"/>; the first HIGHATOMIC free block found gives its pageblock back to
    /// <paramref name="migratetype"/> (free pages moved along). True if some free pages were moved.
    /// </summary>
    [Preemptible]
    public bool UnreserveHighatomicPageblock(int migratetype, bool force)
    {
        for (int i = node.Zones.Count - 1; i >= 0; i--)
        {
            var zone = node.Zones[i];
            if (!force && zone.NrReservedHighatomic <= Zone.PageblockNrPages) continue;
            zone.Lock.Lock();
            for (int order = 0; order < Zone.MaxOrder; order++)
            {
                int head = zone.FreeList(order, MigrateType.HighAtomic);
                if (lists.Empty(head)) continue;
                int page = lists.Next(head);
                if (zone.GetPageblockMigratetype(page) == MigrateType.HighAtomic)
                    zone.NrReservedHighatomic -= Math.Min(Zone.PageblockNrPages, zone.NrReservedHighatomic);
                zone.SetPageblockMigratetype(page, migratetype);
                if (MoveFreepagesBlock(zone, page, migratetype, out _) != 0)
                {
                    zone.Lock.Unlock();
                    return true;
                }
            }
            zone.Lock.Unlock();
        }
        return false;
    }

    /// <summary>
    /// __free_one_page (6.1; the caller holds zone-&gt;lock): NR_FREE_PAGES rises (unless ISOLATE); then merge with free
    /// buddies up to MAX_ORDER-1 — unless a direct compactor of this zone captures the block at its order first
    /// (compaction_capture), and never across a non-mergeable pageblock above pageblock_order. The merged block goes to
    /// the tail with FPI_TO_TAIL or when buddy_merge_likely, else to the head; then free page reporting is notified of the
    /// merged order unless FPI_SKIP_REPORT_NOTIFY (page_reporting_notify_free).
    /// </summary>
    public void FreeOneBlock(Zone zone, int pfn, int order, int mt, Fpi fpi = Fpi.None)
    {
        if (mt != MigrateType.Isolate) zone.Stat.Add((int)ZoneStat.NrFreePages, 1 << order);
        int buddyPfn = 0;
        for (; order < Zone.MaxOrder - 1; order++)
        {
            if (CompactionCapture(zone, pfn, order, mt))
            {
                if (mt != MigrateType.Isolate) zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << order));
                return;
            }
            buddyPfn = pfn ^ (1 << order);
            if (!_area.PageIsBuddy(zone, buddyPfn, order)) break;
            if (order >= Zone.PageblockOrder)
            {
                int buddyMt = zone.GetPageblockMigratetype(buddyPfn);
                if (mt != buddyMt && (!MigrateType.IsMergeable(mt) || !MigrateType.IsMergeable(buddyMt))) break;
            }
            DelPageFromFreeList(buddyPfn, zone, order);
            pfn &= buddyPfn;
        }
        pages.SetPageOrder(pfn, order);
        int head = zone.FreeList(order, mt);
        if ((fpi & Fpi.ToTail) != 0 || BuddyMergeLikely(zone, pfn, buddyPfn, order)) lists.AddTail(pfn, head);
        else lists.Add(pfn, head);
        zone.NrFree.Add(order, 1);
        if ((fpi & Fpi.SkipReportNotify) == 0) _reporting?.NotifyFree(order);
    }

    /// <summary>
    /// __putback_isolated_page (the caller holds zone-&gt;lock): a block <see cref="IsolateFreePage"/> took goes back to
    /// the tail of its free list, merging as any freed block, without notifying free page reporting.
    /// </summary>
    public void PutbackIsolatedPage(Zone zone, int pfn, int order, int mt) =>
        FreeOneBlock(zone, pfn, order, mt, Fpi.SkipReportNotify | Fpi.ToTail);

    /// <summary>buddy_merge_likely: below MAX_ORDER-2, the order+1 buddy of the combined block is free (it will likely merge soon).</summary>
    private bool BuddyMergeLikely(Zone zone, int pfn, int buddyPfn, int order)
    {
        if (order >= Zone.MaxOrder - 2) return false;
        int higher = buddyPfn & pfn;
        return _area.PageIsBuddy(zone, higher ^ (1 << (order + 1)), order + 1);
    }

    /// <summary>
    /// task_capc + compaction_capture: the running task (not a kernel thread) compacts this zone for exactly this order
    /// and has not captured a page yet; the block is not in a CMA or ISOLATE pageblock, nor below pageblock order in a
    /// MOVABLE one. Then the block is the compactor's.
    /// </summary>
    private bool CompactionCapture(Zone zone, int pfn, int order, int mt)
    {
        if (_captures.Count == 0) return false;
        var task = scheduler.Current;
        if ((task.Flags & PF.Kthread) != 0 || !_captures.TryGetValue(task, out var capc) || capc.Page >= 0 || capc.Zone != zone) return false;
        if (order != capc.Order || mt is MigrateType.Cma or MigrateType.Isolate) return false;
        if (order < Zone.PageblockOrder && mt == MigrateType.Movable) return false;
        capc.Page = pfn;
        return true;
    }

    /// <summary>current-&gt;capture_control = <paramref name="capc"/> (compact_zone_order), or cleared with null.</summary>
    public void SetCaptureControl(SimTask task, CaptureControl? capc)
    {
        if (capc is null) _captures.Remove(task);
        else _captures[task] = capc;
    }

    /// <summary>
    /// free_the_page after free_pages_prepare: a per-cpu order goes to free_unref_page when that layer exists, other
    /// orders to __free_pages_ok (free_one_page and PGFREE). The page's pcp migratetype is its pageblock's.
    /// </summary>
    [Preemptible]
    public void FreePages(int pfn, int order)
    {
        if (!Checks.FreePagesPrepare(pfn, order)) return;
        var zone = node.ZoneOf(pfn);
        int mt = zone.GetPageblockMigratetype(pfn);
        pages.Index[pfn] = mt; // set_pcppage_migratetype
        if (pcp is not null && PcpAllowedOrder(order))
        {
            pcp.FreeUnrefPage(this, zone, pfn, order, mt);
            return;
        }
        FreeOnePage(zone, pfn, order, mt);
        vmstat.Count(VmEvent.Pgfree, 1 << order);
    }

    /// <summary>6.1 has no cold frees: free_unref_page_list frees each page as free_unref_page does.</summary>
    [Preemptible]
    public void FreeColdPage(int pfn) => FreePages(pfn, 0);

    /// <summary>free_one_page: __free_one_page under zone-&gt;lock.</summary>
    [Preemptible]
    public void FreeOnePage(Zone zone, int pfn, int order, int mt)
    {
        zone.Lock.Lock();
        FreeOneBlock(zone, pfn, order, mt);
        zone.Lock.Unlock();
    }

    /// <summary>put_page / __free_pages: drop a reference to the (head) page; free the 2^order block when it was the last.</summary>
    [Preemptible]
    public void PutPage(int pfn, int order = 0)
    {
        if (_area.PutPageTestzero(pfn)) FreePages(pfn, order);
    }

    public bool PutPageTestzero(int pfn) => _area.PutPageTestzero(pfn);

    bool IBuddyAllocator.ZoneWatermarkOk(Zone zone, int order, long mark, int classzone, int allocFlags) =>
        ZoneWatermarkOk(zone, order, mark, classzone, allocFlags, zone.FreePages);

    /// <summary>
    /// __zone_watermark_unusable_free: the 2^order − 1 pages of the request itself, and the highatomic reserve unless the
    /// request may use it (ALLOC_HARDER, ALLOC_OOM). No CMA pages exist to subtract.
    /// </summary>
    public static long UnusableFree(Zone zone, int order, int allocFlags) =>
        (1L << order) - 1 + ((allocFlags & (AllocFlags.Harder | AllocFlags.Oom)) == 0 ? zone.NrReservedHighatomic : 0);

    /// <summary>
    /// __zone_watermark_ok (6.1): the order-0 test with reserves (ALLOC_HIGH: half below the mark; ALLOC_OOM half;
    /// ALLOC_HARDER a quarter) and lowmem_reserve; then, for a high order, one free block of that order or more on an
    /// UNMOVABLE/MOVABLE/RECLAIMABLE list (HIGHATOMIC too for ALLOC_HARDER/OOM). No per-order halving as in v3.16.
    /// </summary>
    public bool ZoneWatermarkOk(Zone zone, int order, long mark, int highestZoneidx, int allocFlags, long freePages)
    {
        long min = mark;
        bool harder = (allocFlags & (AllocFlags.Harder | AllocFlags.Oom)) != 0;
        freePages -= UnusableFree(zone, order, allocFlags);
        if ((allocFlags & AllocFlags.High) != 0) min -= min / 2;
        if (harder) min -= (allocFlags & AllocFlags.Oom) != 0 ? min / 2 : min / 4;
        if (freePages <= min + Reserve(zone, highestZoneidx)) return false;
        if (order == 0) return true;
        for (int o = order; o < Zone.MaxOrder; o++)
        {
            if (zone.NrFree[o] == 0) continue;
            for (int mt = 0; mt < MigrateType.PcpTypes; mt++)
                if (!lists.Empty(zone.FreeList(o, mt))) return true;
            if (harder && !lists.Empty(zone.FreeList(o, MigrateType.HighAtomic))) return true;
        }
        return false;
    }

    /// <summary>
    /// zone_watermark_fast: an order-0 request passes at once when free pages less the reserves are above the mark;
    /// otherwise the full test; an order-0 __GFP_ATOMIC request at the min mark of a boosted zone is tested again against
    /// the unboosted min.
    /// </summary>
    public bool ZoneWatermarkFast(Zone zone, int order, long mark, int highestZoneidx, int allocFlags, Gfp gfp)
    {
        long free = zone.FreePages;
        if (order == 0)
        {
            long usable = free - Math.Min(free, UnusableFree(zone, 0, allocFlags));
            if (usable > mark + Reserve(zone, highestZoneidx)) return true;
        }
        if (ZoneWatermarkOk(zone, order, mark, highestZoneidx, allocFlags, free)) return true;
        if (order == 0 && (gfp & Gfp.Atomic) != 0 && zone.WatermarkBoost != 0 && (allocFlags & AllocFlags.WmarkMask) == AllocFlags.WmarkMin)
            return ZoneWatermarkOk(zone, 0, zone.Watermark[Zone.WmarkMin], highestZoneidx, allocFlags, free);
        return false;
    }

    private static long Reserve(Zone zone, int highestZoneidx) =>
        highestZoneidx < zone.LowmemReserve.Length ? zone.LowmemReserve[highestZoneidx] : 0;

    /// <summary>
    /// Order-0 pages the zonelist can still hand out at watermark <paramref name="wmark"/> (boost included): per zone,
    /// free pages less the highatomic reserve, the mark and lowmem_reserve[highest zone]. Lets callers validate a request
    /// before changing anything.
    /// </summary>
    public long AllocatablePages(int wmark)
    {
        int highest = node.Zones.Count - 1;
        return node.Zones.Sum(z => Math.Max(0, z.FreePages - UnusableFree(z, 0, 0) - z.WmarkPages(wmark) - Reserve(z, highest)));
    }

    /// <summary>
    /// __isolate_free_page (6.1; the caller holds zone-&gt;lock): unless the block is ISOLATE, the order-0 test against the
    /// unboosted min mark + 2^order (ALLOC_CMA) must pass; the block leaves the free lists whole (compaction splits it
    /// later), and a block of half a pageblock or more relabels its mergeable pageblocks MOVABLE. The pages isolated, or 0.
    /// </summary>
    public int IsolateFreePage(Zone zone, int pfn, int order)
    {
        int mt = zone.GetPageblockMigratetype(pfn);
        if (mt != MigrateType.Isolate)
        {
            long watermark = zone.Watermark[Zone.WmarkMin] + (1L << order);
            if (!ZoneWatermarkOk(zone, 0, watermark, 0, AllocFlags.Cma, zone.FreePages)) return 0;
            zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << order));
        }
        DelPageFromFreeList(pfn, zone, order);
        if (order >= Zone.PageblockOrder - 1)
            for (int p = pfn; p < pfn + (1 << order) - 1; p += Zone.PageblockNrPages)
                if (MigrateType.IsMergeable(zone.GetPageblockMigratetype(p))) zone.SetPageblockMigratetype(p, MigrateType.Movable);
        return 1 << order;
    }
}
