using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// alloc_pages: 6.1 <c>__alloc_pages</c> = the fast path at the low watermark (with ALLOC_NOFRAGMENT when a Normal zone
/// sits above DMA32), then <c>__alloc_pages_slowpath</c> (docs/kernel/v6.1.md §2.9): wake kswapd, retry at the min
/// watermark, an initial asynchronous direct compaction for costly or non-movable high orders (a costly __GFP_NORETRY
/// request gives up if it was skipped or deferred, and stays async), then the retry loop — reserves for PF_MEMALLOC and
/// OOM victims, direct reclaim (then unreserve highatomic, drain_all_pages, one retry), direct compaction at the current
/// priority (a captured page is used at once), and the retry budgets: <c>should_reclaim_retry</c> (16 loops without
/// progress; before giving up the highatomic reserve is forced back) and <c>should_compact_retry</c> (16 compactions that
/// made progress, 4 for costly orders, lowering the priority ASYNC → SYNC_LIGHT → SYNC_FULL when compaction failed or
/// withdrew), then the OOM killer for orders up to 3.
/// <para>
/// __GFP_RETRY_MAYFAIL is v3.16's __GFP_REPEAT (<see cref="Gfp.Repeat"/>, renamed in 4.13); __GFP_DIRECT_RECLAIM is
/// <see cref="Gfp.Wait"/> and __GFP_KSWAPD_RECLAIM the absence of <see cref="Gfp.NoKswapd"/>. Reclaim is the design's
/// (<see cref="IReclaim"/>); without it, direct reclaim makes no progress and nobody is killed. Cpusets, mempolicies,
/// __GFP_MEMALLOC and __GFP_THISNODE do not exist here.
/// </para>
/// </summary>
[KernelPart("page allocator", PartVersion.V6_1)]
internal sealed partial class PageAllocator(Node node, BuddyAllocator buddy, Compactor compaction, IReclaim reclaim, ZoneReclaimable reclaimable,
    WatermarkBoost boost, ProcessTable processes, KernelLog log, Scheduler scheduler, FatalSignal signal, SimClock clock, VmStat vmstat, PerCpuPagesets? pcp = null)
    : IPageAllocator
{
    /// <summary>PAGE_ALLOC_COSTLY_ORDER.</summary>
    public const int CostlyOrder = 3;
    /// <summary>MAX_COMPACT_RETRIES.</summary>
    public const int MaxCompactRetries = 16;
    /// <summary>MAX_RECLAIM_RETRIES.</summary>
    public const int MaxReclaimRetries = 16;

    /// <summary>Retry rounds of one allocation before the simulation calls it a livelock and fails it (the kernel would loop on).</summary>
    private const int MaxRetryRounds = 1000;

    [NotState("oom_lock is held only inside __alloc_pages_may_oom, never across operations")]
    private bool _oomLock;

    /// <summary>__alloc_pages: the first PFN of a 2^order block with _count 1 (a compound page with __GFP_COMP), or -1.</summary>
    [Preemptible]
    public int AllocPages(int order, Gfp gfp)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages");
        if (order >= Zone.MaxOrder) return -1;
        int page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.WmarkLow | AllocFlagsNofragment(gfp));
        return page >= 0 ? page : AllocPagesSlowpath(order, gfp);
    }

    /// <summary>
    /// alloc_flags_nofragment: ALLOC_KSWAPD from __GFP_KSWAPD_RECLAIM, and ALLOC_NOFRAGMENT when the preferred zone is
    /// Normal with DMA32 below it (a guest of more than 4 GiB).
    /// </summary>
    private int AllocFlagsNofragment(Gfp gfp)
    {
        int flags = (gfp & Gfp.NoKswapd) == 0 ? AllocFlags.Kswapd : 0;
        var zones = node.Zones;
        if (zones.Count >= 2 && zones[^1].Name == "Normal" && zones[^2].Name == "DMA32") flags |= AllocFlags.NoFragment;
        return flags;
    }

    /// <summary>__alloc_pages_slowpath (6.1); see the class comment.</summary>
    [Preemptible]
    private int AllocPagesSlowpath(int order, Gfp gfp)
    {
        using var frame = scheduler.Current.Path.Enter("__alloc_pages_slowpath");
        var current = scheduler.Current;
        bool canDirectReclaim = (gfp & Gfp.Wait) != 0;
        bool costly = order > CostlyOrder;
        int migratetype = MigrateType.FromGfp(gfp);
        int rounds = 0, page;
        int compactionRetries = 0, noProgressLoops = 0;
        var compactPriority = CompactPriority.DefCompactPriority;
        var compactResult = CompactResultCode.Skipped;
        int allocFlags = GfpToAllocFlags(gfp);
        if ((allocFlags & AllocFlags.Kswapd) != 0) boost.WakeAllKswapds(order, gfp);
        page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0) return page;
        if (canDirectReclaim && (costly || (order > 0 && migratetype != MigrateType.Movable)) && GfpPfmemallocFlags(gfp) == 0)
        {
            page = AllocPagesDirectCompact(order, gfp, allocFlags, CompactPriority.Async, ref compactResult);
            if (page >= 0) return page;
            if (costly && (gfp & Gfp.NoRetry) != 0)
            {
                if (compactResult is CompactResultCode.Skipped or CompactResultCode.Deferred) goto nopage;
                compactPriority = CompactPriority.Async;
            }
        }
    retry:
        if (++rounds > MaxRetryRounds)
        {
            log.Printk($"{current.Name}: page allocation gave up after {MaxRetryRounds} retries (order:{order}, mode:0x{(uint)gfp:x})");
            return -1;
        }
        if ((allocFlags & AllocFlags.Kswapd) != 0) boost.WakeAllKswapds(order, gfp);
        int reserveFlags = GfpPfmemallocFlags(gfp);
        if (reserveFlags != 0) allocFlags = reserveFlags | (allocFlags & AllocFlags.Kswapd);
        page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0) return page;
        if (!canDirectReclaim || (current.Flags & PF.MemAlloc) != 0) goto nopage;
        page = AllocPagesDirectReclaim(order, gfp, allocFlags, migratetype, out long progress);
        if (page >= 0) return page;
        page = AllocPagesDirectCompact(order, gfp, allocFlags, compactPriority, ref compactResult);
        if (page >= 0) return page;
        if ((gfp & Gfp.NoRetry) != 0) goto nopage;
        if (costly && (gfp & Gfp.Repeat) == 0) goto nopage;
        if (ShouldReclaimRetry(order, allocFlags, migratetype, progress > 0, ref noProgressLoops)) goto retry;
        if (progress > 0 && ShouldCompactRetry(order, allocFlags, compactResult, ref compactPriority, ref compactionRetries)) goto retry;
        page = AllocPagesMayOom(order, gfp, out progress);
        if (page >= 0) return page;
        if (processes.Current is { MemDie: true } && ((allocFlags & AllocFlags.Oom) != 0 || (gfp & Gfp.NoMemAlloc) != 0)) goto nopage;
        if (progress > 0)
        {
            noProgressLoops = 0;
            goto retry;
        }
    nopage:
        if ((gfp & Gfp.NoFail) != 0 && canDirectReclaim)
        {
            page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.Harder);
            if (page >= 0) return page;
            clock.CondResched();
            goto retry;
        }
        return Fail(order, gfp);
    }

    /// <summary>
    /// gfp_to_alloc_flags (6.1): the min watermark; ALLOC_HIGH for __GFP_HIGH; ALLOC_KSWAPD for __GFP_KSWAPD_RECLAIM;
    /// ALLOC_HARDER for __GFP_ATOMIC without __GFP_NOMEMALLOC (no task here is real-time).
    /// </summary>
    private static int GfpToAllocFlags(Gfp gfp)
    {
        int flags = AllocFlags.WmarkMin;
        if ((gfp & Gfp.High) != 0) flags |= AllocFlags.High;
        if ((gfp & Gfp.NoKswapd) == 0) flags |= AllocFlags.Kswapd;
        if ((gfp & Gfp.Atomic) != 0 && (gfp & Gfp.NoMemAlloc) == 0) flags |= AllocFlags.Harder;
        return flags;
    }

    /// <summary>
    /// __gfp_pfmemalloc_flags: none with __GFP_NOMEMALLOC; ALLOC_NO_WATERMARKS for a PF_MEMALLOC task (reclaim,
    /// compaction, kswapd); ALLOC_OOM for an OOM victim.
    /// </summary>
    private int GfpPfmemallocFlags(Gfp gfp)
    {
        if ((gfp & Gfp.NoMemAlloc) != 0) return 0;
        if ((scheduler.Current.Flags & PF.MemAlloc) != 0) return AllocFlags.NoWatermarks;
        return processes.Current is { MemDie: true } ? AllocFlags.Oom : 0;
    }

    /// <summary>
    /// __alloc_pages_direct_reclaim (6.1): __perform_reclaim (try_to_free_pages with PF_MEMALLOC set); with progress, an
    /// allocation attempt, and if that fails the highatomic reserve is unreserved (not forced), every CPU's per-cpu
    /// lists are drained, and it is tried once more. All of it a memory stall (psi_memstall_enter to the out label).
    /// </summary>
    private int AllocPagesDirectReclaim(int order, Gfp gfp, int allocFlags, int migratetype, out long progress)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_direct_reclaim");
        using var stall = scheduler.Psi.Memstall();
        progress = PerformReclaim.Run(reclaim, scheduler, clock, order, gfp);
        if (progress == 0) return -1;
        int page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0) return page;
        buddy.UnreserveHighatomicPageblock(migratetype, force: false);
        pcp?.DrainAllPages(buddy, null);
        return buddy.GetPageFromFreelist(order, gfp, allocFlags);
    }

    /// <summary>
    /// __alloc_pages_direct_compact (6.1): nothing for order 0; try_to_compact_pages at <paramref name="priority"/> with
    /// PF_MEMALLOC set, a memory stall whatever it returns (psi_memstall_enter around it). SKIPPED ends it without counting
    /// compact_stall; anything else counts it (DEFERRED included). A page captured by the compactor is prepared and used,
    /// else the free lists are tried. Success resets the zone's deferral and skip-bit flush and counts compact_success;
    /// failure counts compact_fail.
    /// </summary>
    private int AllocPagesDirectCompact(int order, Gfp gfp, int allocFlags, CompactPriority priority, ref CompactResultCode result)
    {
        if (order == 0) return -1;
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_direct_compact");
        var current = scheduler.Current;
        var saved = current.Flags;
        current.Flags |= PF.MemAlloc;
        int page;
        using (scheduler.Psi.Memstall()) result = compaction.TryToCompactPages(order, gfp, allocFlags, priority, out page);
        current.Flags = saved;
        if (result == CompactResultCode.Skipped) return -1;
        vmstat.Count(VmEvent.CompactStall);
        if (page >= 0)
        {
            buddy.Checks.PrepNewPage(page, order);
            if ((gfp & Gfp.Comp) != 0) buddy.Checks.PrepCompoundPage(page, order);
        }
        else page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0)
        {
            var zone = node.ZoneOf(page);
            zone.CompactBlockskipFlush = false;
            compaction.CompactionDeferReset(zone, order, allocSuccess: true);
            vmstat.Count(VmEvent.CompactSuccess);
            return page;
        }
        vmstat.Count(VmEvent.CompactFail);
        clock.CondResched();
        return -1;
    }

    /// <summary>
    /// should_compact_retry (6.1): not for order 0 nor with a fatal signal (Ctrl-C) pending; a compaction that made progress (SUCCESS) counts a retry; one that
    /// failed (COMPLETE) or withdrew (DEFERRED, CONTENDED, PARTIAL_SKIPPED) raises the priority if it can (to SYNC_FULL,
    /// or SYNC_LIGHT for costly orders) and retries; one skipped for want of free pages retries if reclaim could help
    /// (compaction_zonelist_suitable); otherwise retry while the retries are within 16 (4 for costly orders), then
    /// raise the priority if possible.
    /// </summary>
    private bool ShouldCompactRetry(int order, int allocFlags, CompactResultCode result, ref CompactPriority priority, ref int retries)
    {
        if (order == 0 || signal.Pending) return false;
        if (result == CompactResultCode.Success) retries++;
        if (result == CompactResultCode.Skipped) return compaction.CompactionZonelistSuitable(order, allocFlags);
        if (result is not (CompactResultCode.Complete or CompactResultCode.Deferred or CompactResultCode.Contended or CompactResultCode.PartialSkipped))
        {
            int maxRetries = order > CostlyOrder ? MaxCompactRetries / 4 : MaxCompactRetries;
            if (retries <= maxRetries) return true;
        }
        var minPriority = order > CostlyOrder ? CompactPriority.MinCompactCostlyPriority : CompactPriority.MinCompactPriority;
        if (priority <= minPriority) return false;
        priority--;
        retries = 0;
        return true;
    }

    /// <summary>
    /// should_reclaim_retry (6.1): progress resets the loop count for non-costly orders, otherwise it grows; past 16,
    /// give up. Else retry if some zone would pass the min watermark at this order with all its reclaimable pages
    /// freed; cond_resched after the zone walk, whatever it found. Before giving up, the highatomic reserve is forced back
    /// (its result is the answer).
    /// </summary>
    private bool ShouldReclaimRetry(int order, int allocFlags, int migratetype, bool didSomeProgress, ref int noProgressLoops)
    {
        if (didSomeProgress && order <= CostlyOrder) noProgressLoops = 0;
        else noProgressLoops++;
        bool ret = false;
        if (noProgressLoops <= MaxReclaimRetries)
        {
            int highest = node.Zones.Count - 1;
            for (int i = highest; i >= 0 && !ret; i--)
            {
                var zone = node.Zones[i];
                long available = (reclaim.Modelled ? reclaimable.Pages(zone) : 0) + zone.FreePages;
                ret = buddy.ZoneWatermarkOk(zone, order, zone.WmarkPages(Zone.WmarkMin), highest, allocFlags, available);
            }
            clock.CondResched();
        }
        return ret || buddy.UnreserveHighatomicPageblock(migratetype, force: true);
    }

    /// <summary>
    /// __alloc_pages_may_oom (6.1): if oom_lock is taken, someone else is making progress (wait a tick); else one last
    /// try at the high watermark, then — not for costly orders nor __GFP_RETRY_MAYFAIL — out_of_memory; a kill is
    /// progress.
    /// </summary>
    private int AllocPagesMayOom(int order, Gfp gfp, out long progress)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_may_oom");
        progress = 0;
        if (_oomLock)
        {
            progress = 1;
            clock.ScheduleTimeout(1, "__alloc_pages_may_oom");
            return -1;
        }
        _oomLock = true;
        int page = buddy.GetPageFromFreelist(order, (gfp | Gfp.HardWall) & ~Gfp.Wait, AllocFlags.WmarkHigh);
        if (page < 0 && order <= CostlyOrder && (gfp & Gfp.Repeat) == 0 && (reclaim.OutOfMemory(gfp, order) || (gfp & Gfp.NoFail) != 0))
        {
            progress = 1;
            if ((gfp & Gfp.NoFail) != 0) page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.NoWatermarks);
        }
        _oomLock = false;
        return page;
    }

    /// <summary>warn_alloc's nopage_rs (6.1): one message per 10 s (DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1)).</summary>
    private const long NopageRatelimitNs = 10_000_000_000;

    /// <summary>warn_alloc (6.1): "page allocation failure" unless __GFP_NOWARN (ratelimited), and no page.</summary>
    private int Fail(int order, Gfp gfp)
    {
        if ((gfp & Gfp.NoWarn) == 0 && log.Ratelimit("warn_alloc", NopageRatelimitNs, 1)) // nopage_rs: 10 * HZ, burst 1
            log.Printk($"{processes.Current?.Comm ?? scheduler.Current.Name}: page allocation failure: order:{order}, mode:{GfpFlags.Format(gfp)}, "
                + "nodemask=(null),cpuset=/,mems_allowed=0");
        return -1;
    }
}
