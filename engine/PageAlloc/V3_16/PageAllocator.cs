using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// alloc_pages: v3.16 <c>__alloc_pages_nodemask</c> = the fast path at the low watermark, then
/// <c>__alloc_pages_slowpath</c> with direct compaction. Reclaim is a part of its own (<see cref="IReclaim"/>);
/// while a design does not model it (no kswapd, direct reclaim frees nothing, no OOM killer) the path is
/// simplified as follows: after the retry at the min watermark and the first (async) compaction
/// attempt, the path behaves as if direct reclaim had made some progress without the allocation succeeding
/// and should_alloc_retry had said no, so it makes the final compaction attempt __alloc_pages_slowpath makes
/// before giving up: MIGRATE_SYNC_LIGHT, or async again for THP-like requests (__GFP_NO_KSWAPD), which give up
/// at once if compaction was deferred or contended. (Had reclaim made no progress, v3.16 would take the OOM
/// branch instead, which gives up on orders above PAGE_ALLOC_COSTLY_ORDER without that last compaction.)
/// Orders up to PAGE_ALLOC_COSTLY_ORDER, which should_alloc_retry would send back to rebalance, fail there
/// too. __GFP_HIGH, ALLOC_NO_WATERMARKS (PF_MEMALLOC, __GFP_MEMALLOC) and rt tasks' ALLOC_HARDER are not
/// modelled.
/// </summary>
[KernelPart("page allocator", PartVersion.V3_16)]
internal sealed class PageAllocator(PageTable pages, Node node, BuddyAllocator buddy, ICompaction compaction, IReclaim reclaim,
    Scheduler scheduler, SimClock clock, VmStat vmstat, PerCpuPagesets? pcp = null) : IPageAllocator
{
    /// <summary>__alloc_pages_nodemask: first PFN of a 2^order block with _count 1 (a compound page with __GFP_COMP), or -1.</summary>
    public int AllocPages(int order, Gfp gfp)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_nodemask");
        int page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.WmarkLow);
        if (page < 0) page = AllocPagesSlowpath(order, gfp);
        if (page >= 0 && order > 0 && (gfp & Gfp.Comp) != 0) PrepCompoundPage(page, order);
        return page;
    }

    private int AllocPagesSlowpath(int order, Gfp gfp)
    {
        using var frame = scheduler.Current.Path.Enter("__alloc_pages_slowpath");
        if (order >= Zone.MaxOrder) return -1;
        if ((gfp & Gfp.NoKswapd) == 0) reclaim.WakeAllKswapds(order);
        int allocFlags = GfpToAllocFlags(gfp);
        int page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0) return page;
        var current = scheduler.Current;
        if ((gfp & Gfp.Wait) == 0 || (current.Flags & PF.MemAlloc) != 0) return -1;

        page = AllocPagesDirectCompact(order, gfp, allocFlags, MigrateMode.Async, out bool contended, out bool deferred);
        if (page >= 0) return page;
        bool thpLike = (gfp & Gfp.NoKswapd) != 0;
        var mode = !thpLike || (current.Flags & PF.Kthread) != 0 ? MigrateMode.SyncLight : MigrateMode.Async;
        if ((deferred || contended) && thpLike) return -1;
        // __alloc_pages_direct_reclaim; with reclaim not modelled it frees nothing and the path goes on to the
        // last compaction attempt (see the class comment).
        if (reclaim.TryToFreePages(order, gfp) > 0 && (page = buddy.GetPageFromFreelist(order, gfp, allocFlags)) >= 0) return page;
        return AllocPagesDirectCompact(order, gfp, allocFlags, mode, out _, out _);
    }

    /// <summary>
    /// __alloc_pages_direct_compact (v3.16): skip while the preferred zone defers this order; compact with
    /// PF_MEMALLOC set; unless compaction was skipped, retry the allocation: success resets the deferral and
    /// counts compact_success, failure counts compact_fail and (not async) defers the next attempts. Before the
    /// retry the local CPU's per-cpu lists are drained (drain_pages(get_cpu())), when that layer exists.
    /// </summary>
    private int AllocPagesDirectCompact(int order, Gfp gfp, int allocFlags, MigrateMode mode, out bool contended, out bool deferred)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_direct_compact");
        contended = false;
        deferred = false;
        if (order == 0) return -1;
        var preferredZone = node.HighestZone;
        if (compaction.CompactionDeferred(preferredZone, order))
        {
            deferred = true;
            return -1;
        }
        var current = scheduler.Current;
        var saved = current.Flags;
        current.Flags |= PF.MemAlloc;
        var progress = compaction.TryToCompactPages(order, gfp, mode, out contended);
        current.Flags = saved;
        if (progress == CompactStatus.Skipped) return -1;
        pcp?.DrainPages(buddy, current.Cpu);
        int page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0)
        {
            preferredZone.CompactBlockskipFlush = false;
            compaction.CompactionDeferReset(preferredZone, order, allocSuccess: true);
            vmstat.Count(VmEvent.CompactSuccess);
            return page;
        }
        vmstat.Count(VmEvent.CompactFail);
        if (mode != MigrateMode.Async) compaction.DeferCompaction(preferredZone, order);
        clock.CondResched();
        return -1;
    }

    /// <summary>
    /// gfp_to_alloc_flags (v3.16): the min watermark; an atomic request (neither __GFP_WAIT nor
    /// __GFP_NO_KSWAPD) without __GFP_NOMEMALLOC may dig deeper (ALLOC_HARDER).
    /// </summary>
    private static int GfpToAllocFlags(Gfp gfp)
    {
        int allocFlags = AllocFlags.WmarkMin;
        bool atomic = (gfp & (Gfp.Wait | Gfp.NoKswapd)) == 0;
        if (atomic && (gfp & Gfp.NoMemAlloc) == 0) allocFlags |= AllocFlags.Harder;
        return allocFlags;
    }

    /// <summary>
    /// prep_compound_page (v3.16, from prep_new_page for __GFP_COMP): PG_head on the first page, PG_tail and
    /// _count 0 on the others; the order is kept in the first tail page (set_compound_order).
    /// </summary>
    private void PrepCompoundPage(int page, int order)
    {
        pages.Set(page, PG.Head);
        for (int p = page + 1; p < page + (1 << order); p++) pages.Set(p, PG.Tail);
        pages.Private[page + 1] = order;
    }
}
