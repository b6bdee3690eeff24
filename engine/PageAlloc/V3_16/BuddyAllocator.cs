using System.Runtime.CompilerServices;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// The buddy allocator of v3.16 mm/page_alloc.c: free lists per order and migrate type, splitting with
/// <c>expand</c>, fallback and pageblock stealing, merging in <c>__free_one_page</c> with the add-to-tail
/// heuristic, watermarks. The per-cpu page lists are an optional layer (<paramref name="pcp"/>, registered
/// with <see cref="SimulationOptions.PerCpuLists"/>); without it an order-0 free goes straight to
/// <c>__free_one_page</c> (as if <c>pcp-&gt;high</c> were 0), so buddyinfo shows merges at once.
/// </summary>
[KernelPart("page allocator", PartVersion.V3_16)]
internal sealed partial class BuddyAllocator(PageTable pages, PageLists lists, Node node, Sanitizer sanitizer, VmStat vmstat, SimulationOptions options,
    PerCpuPagesets? pcp = null)
    : IBuddyAllocator
{
    /// <summary>free_pages_check, check_new_page and bad_page with v3.16's reason texts.</summary>
    [NotState("stateless helper")]
    public PageStateChecks Checks { get; } = new(pages, sanitizer, "nonzero _count", "PAGE_FLAGS_CHECK_AT_FREE flag(s) set",
        "PAGE_FLAGS_CHECK_AT_PREP flag set");

    [NotState("helper: no guest state (it remembers only which host memory it made resident)")]
    private readonly FreeArea _area = new(pages, lists, sanitizer);

    /// <summary>Boot-time set-up (<see cref="MemoryInit"/>).</summary>
    public void Boot() => MemoryInit.Boot(node, this, lists, vmstat, options.Cpus);

    /// <summary>
    /// get_page_from_freelist: walk the zonelist from the highest zone down; take the first zone whose
    /// watermark (<paramref name="allocFlags"/> &amp; mask) is met; <c>buffered_rmqueue</c> there.
    /// Returns the first PFN of the block (with <c>_count</c> 1), or -1.
    /// </summary>
    [Preemptible]
    public int GetPageFromFreelist(int order, Gfp gfp, int allocFlags)
    {
        int mt = gfp.MigrateType();
        var zones = node.Zones;
        int classzone = zones.Count - 1;
        for (int i = zones.Count - 1; i >= 0; i--)
        {
            var zone = zones[i];
            // ALLOC_FAIR: every zone is local (one node); a zone whose batch is spent waits for the reset.
            if ((allocFlags & AllocFlags.Fair) != 0 && zone.Stat[(int)ZoneStat.NrAllocBatch] <= 0) continue;
            long mark = zone.Watermark[allocFlags & AllocFlags.WmarkMask];
            if (!ZoneWatermarkOk(zone, order, mark, classzone, allocFlags)) continue;
            int pfn = BufferedRmqueue(zone, order, mt);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /// <summary>
    /// buffered_rmqueue (v3.16): order 0 from the per-cpu list when that layer exists, otherwise
    /// <c>__rmqueue</c> under zone-&gt;lock; then prep_new_page. A bad page is leaked and the next block tried; a
    /// bad page that comes back could not be taken off its free list (list_del refused a corrupted list, already
    /// reported), where the kernel would retry it forever: the allocation fails instead.
    /// </summary>
    [Preemptible]
    public int BufferedRmqueue(Zone zone, int order, int mt)
    {
        for (int bad = -1; ; )
        {
            int pfn = order == 0 && pcp is not null ? pcp.Rmqueue(this, zone, mt) : RmqueueLocked(zone, order, mt);
            if (pfn < 0 || pfn == bad) return -1;
            zone.Stat.Add((int)ZoneStat.NrAllocBatch, -(1 << order)); // the fair policy's batch, spent by every allocation
            vmstat.Count(VmEvent.PgallocDma + zone.Index, 1 << order); // __count_zone_vm_events(PGALLOC), before prep_new_page
            if (Checks.PrepNewPage(pfn, order)) return pfn;
            bad = pfn;
        }
    }

    /// <summary>
    /// buffered_rmqueue's branch without the per-cpu layer: <c>__rmqueue</c> under zone-&gt;lock. Out of line, so that the
    /// order-0 path through the per-cpu list stays within the JIT's inlining budget where it is inlined.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [Preemptible]
    private int RmqueueLocked(Zone zone, int order, int mt)
    {
        zone.Lock.Lock();
        int pfn = Rmqueue(zone, order, mt);
        if (pfn >= 0) zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << order));
        zone.Lock.Unlock();
        return pfn;
    }

    /// <summary>__rmqueue: smallest block of the type; else fallback; else MIGRATE_RESERVE.</summary>
    public int Rmqueue(Zone zone, int order, int mt)
    {
        while (true)
        {
            int pfn = RmqueueSmallest(zone, order, mt);
            if (pfn >= 0 || mt == MigrateType.Reserve) return pfn;
            pfn = RmqueueFallback(zone, order, mt);
            if (pfn >= 0) return pfn;
            mt = MigrateType.Reserve;
        }
    }

    /// <summary>__rmqueue_smallest: head of the first non-empty list of this type, order upwards; expand.</summary>
    public int RmqueueSmallest(Zone zone, int order, int mt)
    {
        for (int o = order; o < Zone.MaxOrder; o++)
        {
            int head = zone.FreeList(o, mt);
            if (lists.Empty(head)) continue;
            int pfn = lists.Next(head);
            lists.Del(pfn);
            pages.RmvPageOrder(pfn);
            zone.NrFree.Add(o, -1);
            Expand(zone, pfn, order, o, mt);
            pages.Index[pfn] = mt; // set_freepage_migratetype
            return pfn;
        }
        return -1;
    }

    /// <summary>rmqueue_bulk's order-0 pages a block at a time (<see cref="FreeArea.RmqueueSmallestRun"/>).</summary>
    public int RmqueueSmallestRun(Zone zone, int mt, int max, ref int tail, int head) => _area.RmqueueSmallestRun(zone, mt, max, ref tail, head);

    /// <summary>
    /// __rmqueue_fallback: largest block first, fallback types in table order; may steal the pageblock.
    /// </summary>
    public int RmqueueFallback(Zone zone, int order, int startMt)
    {
        for (int o = Zone.MaxOrder - 1; o >= order; o--)
        {
            foreach (int fallback in MigrateType.Fallbacks[startMt])
            {
                if (fallback == MigrateType.Reserve) break;
                int head = zone.FreeList(o, fallback);
                if (lists.Empty(head)) continue;
                int pfn = lists.Next(head);
                zone.NrFree.Add(o, -1);
                int newType = TryToStealFreepages(zone, pfn, startMt, fallback);
                lists.Del(pfn);
                pages.RmvPageOrder(pfn);
                Expand(zone, pfn, order, o, newType);
                pages.Index[pfn] = newType;
                return pfn;
            }
        }
        return -1;
    }

    /// <summary>
    /// try_to_steal_freepages (v3.16): a whole pageblock or more → relabel it; order ≥ pageblock_order/2 or a
    /// RECLAIMABLE request → move the pageblock's free pages, and relabel if at least half of it was free.
    /// </summary>
    public int TryToStealFreepages(Zone zone, int pfn, int startType, int fallbackType)
    {
        int currentOrder = pages.PageOrder(pfn);
        if (currentOrder >= Zone.PageblockOrder)
        {
            for (int p = pfn; p < pfn + (1 << currentOrder); p += Zone.PageblockNrPages)
                zone.SetPageblockMigratetype(p, startType);
            return startType;
        }
        if (currentOrder >= Zone.PageblockOrder / 2 || startType == MigrateType.Reclaimable)
        {
            int moved = MoveFreepagesBlock(zone, pfn, startType);
            if (moved >= 1 << (Zone.PageblockOrder - 1))
            {
                zone.SetPageblockMigratetype(pfn, startType);
                return startType;
            }
        }
        return fallbackType;
    }

    /// <summary>move_freepages_block: the pageblock around <paramref name="pfn"/>, clipped at the zone start.</summary>
    public int MoveFreepagesBlock(Zone zone, int pfn, int mt)
    {
        int startPfn = pfn & ~(Zone.PageblockNrPages - 1);
        int endPfn = startPfn + Zone.PageblockNrPages - 1;
        if (!zone.Spans(startPfn)) startPfn = pfn;
        if (!zone.Spans(endPfn)) return 0;
        return MoveFreepages(zone, startPfn, endPfn, mt);
    }

    /// <summary>move_freepages: every buddy block in [start, end] to the head of <paramref name="mt"/>'s list.</summary>
    public int MoveFreepages(Zone zone, int startPfn, int endPfn, int mt)
    {
        int moved = 0;
        for (int p = startPfn; p <= endPfn;)
        {
            if (!pages.PageBuddy(p)) { p++; continue; }
            int order = pages.PageOrder(p);
            lists.Move(p, zone.FreeList(order, mt));
            pages.Index[p] = mt;
            p += 1 << order;
            moved += 1 << order;
        }
        return moved;
    }

    /// <summary>expand (<see cref="FreeArea.Expand"/>).</summary>
    public void Expand(Zone zone, int pfn, int low, int high, int mt) => _area.Expand(zone, pfn, low, high, mt);

    /// <summary>
    /// __free_one_page (v3.16): merge with free buddies of the same order and zone up to MAX_ORDER-1, then
    /// add at the head of the list, or at the tail when the next-higher buddy is free (it will likely merge
    /// soon, so it should be allocated last). The caller holds zone-&gt;lock and accounts NR_FREE_PAGES.
    /// </summary>
    public void FreeOneBlock(Zone zone, int pfn, int order, int mt)
    {
        int baseIdx = pfn & ~((1 << (Zone.MaxOrder - 1)) - 1);
        int pageIdx = pfn - baseIdx;
        int buddyIdx = 0;
        while (order < Zone.MaxOrder - 1)
        {
            buddyIdx = pageIdx ^ (1 << order);
            int buddy = baseIdx + buddyIdx;
            if (!PageIsBuddy(zone, buddy, order)) break;
            lists.Del(buddy);
            zone.NrFree.Add(order, -1);
            pages.RmvPageOrder(buddy);
            pageIdx &= buddyIdx;
            order++;
        }
        int page = baseIdx + pageIdx;
        pages.SetPageOrder(page, order);
        int head = zone.FreeList(order, mt);
        bool tail = false;
        // pfn_valid_within(buddy) is always true on x86-64 (no CONFIG_HOLES_IN_ZONE): even a buddy beyond the end of
        // memory lets the higher-order buddy be looked at (PageIsBuddy is false beyond it).
        if (order < Zone.MaxOrder - 2)
        {
            int combinedIdx = buddyIdx & pageIdx;
            int higherBuddyIdx = combinedIdx ^ (1 << (order + 1));
            tail = PageIsBuddy(zone, baseIdx + higherBuddyIdx, order + 1);
        }
        if (tail) lists.AddTail(page, head);
        else lists.Add(page, head);
        zone.NrFree.Add(order, 1);
    }

    private bool PageIsBuddy(Zone zone, int buddy, int order) => _area.PageIsBuddy(zone, buddy, order);

    /// <summary>
    /// Order-0 pages the zonelist can still hand out at watermark <paramref name="wmark"/>: for each zone,
    /// free − mark − lowmem_reserve[highest zone], since an order-0 request passes __zone_watermark_ok while
    /// free &gt; mark + reserve. Lets callers validate a request before changing anything.
    /// </summary>
    public long AllocatablePages(int wmark)
    {
        int classzone = node.Zones.Count - 1;
        long n = 0;
        foreach (var z in node.Zones)
            n += Math.Max(0, z.FreePages - z.Watermark[wmark] - z.LowmemReserve[classzone]);
        return n;
    }

    bool IBuddyAllocator.ZoneWatermarkOk(Zone zone, int order, long mark, int classzone, int allocFlags) =>
        ZoneWatermarkOk(zone, order, mark, classzone, allocFlags);

    /// <summary>
    /// __zone_watermark_ok (v3.16): after taking 2^order pages the zone must keep more than
    /// <paramref name="mark"/> (+ lowmem_reserve) free, and at each lower order half as much again above it.
    /// </summary>
    public static bool ZoneWatermarkOk(Zone zone, int order, long mark, int classzone, int allocFlags, long? freePagesOverride = null)
    {
        long freePages = freePagesOverride ?? zone.FreePages;
        long min = mark;
        freePages -= (1 << order) - 1;
        if ((allocFlags & AllocFlags.High) != 0) min -= min / 2;
        if ((allocFlags & AllocFlags.Harder) != 0) min -= min / 4;
        long reserve = classzone < zone.LowmemReserve.Length ? zone.LowmemReserve[classzone] : 0;
        if (freePages <= min + reserve) return false;
        for (int o = 0; o < order; o++)
        {
            freePages -= zone.NrFree[o] << o;
            min >>= 1;
            if (freePages <= min) return false;
        }
        return true;
    }

    /// <summary>
    /// __free_pages_ok (v3.16): free a block whose last reference was dropped. free_pages_prepare first
    /// clears the mapping of a head page with a tag bit in it — v3.16 tests PageAnon, v4.8 PageMappingFlags
    /// (bda807d44454, for non-LRU movable pages); the same test for every page before v4.8, where nothing sets
    /// PAGE_MAPPING_MOVABLE —, then runs free_pages_check on every page: a page with a
    /// mapping, a non-(-1) _mapcount, a nonzero _count or a PAGE_FLAGS_CHECK_AT_FREE flag is a bad page,
    /// and if any page is bad the block is not freed (the kernel leaks it too). With the per-cpu layer an
    /// order-0 page then goes to free_hot_cold_page (__free_pages does that for order 0).
    /// </summary>
    [Preemptible]
    public void FreePages(int pfn, int order) => FreePages(pfn, order, cold: false);

    /// <summary>free_hot_cold_page(page, true) (v3.16): a cold page goes to the tail of the per-cpu list.</summary>
    [Preemptible]
    public void FreeColdPage(int pfn) => FreePages(pfn, 0, cold: true);

    [Preemptible]
    private void FreePages(int pfn, int order, bool cold)
    {
        if (!Checks.FreePagesPrepare(pfn, order)) return;
        var zone = node.ZoneOf(pfn);
        int mt = zone.GetPageblockMigratetype(pfn);
        pages.Index[pfn] = mt; // set_freepage_migratetype
        vmstat.Count(VmEvent.Pgfree, 1 << order); // free_hot_cold_page: 1; __free_pages_ok: 1 << order
        if (order == 0 && pcp is not null) pcp.FreeHotColdPage(this, zone, pfn, mt, cold);
        else FreeOnePage(zone, pfn, order, mt);
    }

    /// <summary>
    /// free_one_page (v3.16): __free_one_page under zone-&gt;lock; NR_FREE_PAGES rises unless ISOLATE. A free reaching
    /// the buddy lists zeroes <c>zone-&gt;pages_scanned</c>: the zone is reclaimable again (zone_reclaimable).
    /// </summary>
    // Out of line, as RmqueueLocked: put_page's order-0 path through the per-cpu list inlines the rest.
    [MethodImpl(MethodImplOptions.NoInlining)]
    [Preemptible]
    public void FreeOnePage(Zone zone, int pfn, int order, int mt)
    {
        zone.Lock.Lock();
        zone.PagesScanned = 0;
        FreeOneBlock(zone, pfn, order, mt);
        if (mt != MigrateType.Isolate) zone.Stat.Add((int)ZoneStat.NrFreePages, 1 << order);
        zone.Lock.Unlock();
    }

    /// <summary>put_page / __free_pages: drop a reference to the (head) page; free the 2^order block when it was the last.</summary>
    [Preemptible]
    public void PutPage(int pfn, int order = 0)
    {
        if (_area.PutPageTestzero(pfn)) FreePages(pfn, order);
    }

    public bool PutPageTestzero(int pfn) => _area.PutPageTestzero(pfn);

    /// <summary>
    /// __isolate_free_page (v3.16): take a free block off the buddy lists for compaction, if the order-0
    /// watermark (low + 2^order) still holds; relabel big blocks' pageblocks MOVABLE. Caller holds zone-&gt;lock.
    /// Returns the pages isolated (0 if the watermark check failed).
    /// </summary>
    public int IsolateFreePage(Zone zone, int pfn, int order)
    {
        int mt = zone.GetPageblockMigratetype(pfn);
        if (mt != MigrateType.Isolate)
        {
            long watermark = zone.Watermark[Zone.WmarkLow] + (1 << order);
            if (!ZoneWatermarkOk(zone, 0, watermark, 0, 0)) return 0;
            zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << order));
        }
        lists.Del(pfn);
        zone.NrFree.Add(order, -1);
        pages.RmvPageOrder(pfn);
        if (order >= Zone.PageblockOrder - 1)
        {
            for (int p = pfn; p < pfn + (1 << order); p += Zone.PageblockNrPages)
            {
                int pmt = zone.GetPageblockMigratetype(p);
                if (pmt != MigrateType.Isolate) zone.SetPageblockMigratetype(p, MigrateType.Movable);
            }
        }
        return 1 << order;
    }

    /// <summary>split_free_page: isolate the block and make every page an independent order-0 page (_count 1).</summary>
    public int SplitFreePage(Zone zone, int pfn)
    {
        int order = pages.PageOrder(pfn);
        int n = IsolateFreePage(zone, pfn, order);
        if (n == 0) return 0;
        for (int p = pfn; p < pfn + n; p++) pages.Count[p] = 1;
        return n;
    }
}
