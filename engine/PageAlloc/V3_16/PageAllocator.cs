using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// alloc_pages: v3.16 <c>__alloc_pages_nodemask</c> = the fast path at the low watermark (a fair pass over the zones'
/// NR_ALLOC_BATCH, then, once <c>reset_alloc_batches</c> refilled them, one without), then
/// <c>__alloc_pages_slowpath</c>: wake kswapd, retry at the min watermark, asynchronous direct compaction, direct
/// reclaim (then drain_all_pages and a retry), the OOM killer when reclaim made no progress and the request may
/// invoke it (__GFP_FS without __GFP_NORETRY), <c>should_alloc_retry</c> (an order ≤ 3 request retries for ever,
/// __GFP_NORETRY never), and a last compaction before giving up (SYNC_LIGHT, or async for THP faults, which also
/// give up at once when compaction was deferred or contended). docs/kernel/reclaim-v3.16.md §4.
/// <para>
/// When the simulation leaves reclaim out (<see cref="IReclaim.Modelled"/> false) the slow path cannot reclaim
/// or kill: after the min-watermark retry and the first compaction it goes straight to the last compaction
/// attempt, for every order — the pre-pressure model, kept so its results can be compared.
/// </para>
/// ALLOC_NO_WATERMARKS (PF_MEMALLOC, __GFP_MEMALLOC, an OOM victim's TIF_MEMDIE), __GFP_HIGH and rt tasks'
/// ALLOC_HARDER are not modelled; an OOM victim's own allocations fail.
/// </summary>
[KernelPart("page allocator", PartVersion.V3_16)]
internal sealed partial class PageAllocator(Node node, BuddyAllocator buddy, Compaction.V3_16.Compactor compaction, IReclaim reclaim,
    ProcessTable processes, KernelLog log, Scheduler scheduler, SimClock clock, VmStat vmstat, PerCpuPagesets? pcp = null) : IPageAllocator
{
    /// <summary>PAGE_ALLOC_COSTLY_ORDER.</summary>
    public const int CostlyOrder = 3;

    /// <summary>Rebalance rounds of one allocation before the simulation calls it a livelock and fails it (the kernel would loop on).</summary>
    private const int MaxRebalanceRounds = 1000;

    /// <summary>__alloc_pages_nodemask: first PFN of a 2^order block with _count 1 (a compound page with __GFP_COMP), or -1.</summary>
    [Preemptible]
    public int AllocPages(int order, Gfp gfp)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_nodemask");
        int page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.WmarkLow | AllocFlags.Fair);
        if (page < 0)
        {
            // The fair pass found every batch spent (or no zone above its low watermark): reset them, try once more unfairly.
            ResetAllocBatches();
            page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.WmarkLow);
        }
        if (page < 0) page = reclaim.Modelled ? AllocPagesSlowpath(order, gfp) : AllocPagesSlowpathWithoutReclaim(order, gfp);
        if (page >= 0 && order > 0 && (gfp & Gfp.Comp) != 0) buddy.Checks.PrepCompoundPage(page, order);
        return page;
    }

    /// <summary>
    /// reset_alloc_batches (v3.16): every zone of the zonelist (all local: one node) gets its batch back,
    /// NR_ALLOC_BATCH = high − low watermark, whatever of it was left.
    /// </summary>
    private void ResetAllocBatches()
    {
        foreach (var zone in node.Zones)
            zone.Stat.Add((int)ZoneStat.NrAllocBatch,
                zone.Watermark[Zone.WmarkHigh] - zone.Watermark[Zone.WmarkLow] - zone.Stat[(int)ZoneStat.NrAllocBatch]);
    }

    /// <summary>__alloc_pages_slowpath (v3.16), reclaim included.</summary>
    [Preemptible]
    private int AllocPagesSlowpath(int order, Gfp gfp)
    {
        using var frame = scheduler.Current.Path.Enter("__alloc_pages_slowpath");
        if (order >= Zone.MaxOrder) return -1;
        var current = scheduler.Current;
        var mode = MigrateMode.Async;
        long pagesReclaimed = 0;
        bool thpLike = (gfp & Gfp.NoKswapd) != 0;
        int rounds = 0, page, allocFlags;
    restart:
        if (!thpLike) reclaim.WakeAllKswapds(order, gfp);
        allocFlags = GfpToAllocFlags(gfp);
    rebalance:
        if (++rounds > MaxRebalanceRounds)
        {
            log.Printk($"{current.Name}: page allocation gave up after {MaxRebalanceRounds} rounds of reclaim (order:{order}, mode:0x{(uint)gfp:x})");
            return -1;
        }
        page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0) return page;
        if ((gfp & Gfp.Wait) == 0 || (current.Flags & PF.MemAlloc) != 0) return Fail(order, gfp);
        if (processes.Current is { MemDie: true } && (gfp & Gfp.NoFail) == 0) return Fail(order, gfp);
        page = AllocPagesDirectCompact(order, gfp, allocFlags, mode, out bool contended, out bool deferred);
        if (page >= 0) return page;
        if (!thpLike || (current.Flags & PF.Kthread) != 0) mode = MigrateMode.SyncLight;
        if ((deferred || contended) && thpLike) return Fail(order, gfp);
        page = AllocPagesDirectReclaim(order, gfp, allocFlags, out long progress);
        if (page >= 0) return page;
        if (progress == 0 && (gfp & Gfp.Fs) != 0 && (gfp & Gfp.NoRetry) == 0)
        {
            page = AllocPagesMayOom(order, gfp, out bool killed);
            if (page >= 0) return page;
            if ((gfp & Gfp.NoFail) == 0 && order > CostlyOrder) return Fail(order, gfp);
            if (!killed) return Fail(order, gfp); // no killable process: the kernel would panic
            goto restart;
        }
        pagesReclaimed += progress;
        if (ShouldAllocRetry(gfp, order, progress, pagesReclaimed))
        {
            clock.CondResched(); // wait_iff_congested(HZ/50): no device is ever congested
            goto rebalance;
        }
        page = AllocPagesDirectCompact(order, gfp, allocFlags, mode, out _, out _);
        return page >= 0 ? page : Fail(order, gfp);
    }

    /// <summary>The slow path when reclaim is left out (see the class comment).</summary>
    [Preemptible]
    private int AllocPagesSlowpathWithoutReclaim(int order, Gfp gfp)
    {
        using var frame = scheduler.Current.Path.Enter("__alloc_pages_slowpath");
        if (order >= Zone.MaxOrder) return -1;
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
        return AllocPagesDirectCompact(order, gfp, allocFlags, mode, out _, out _);
    }

    /// <summary>
    /// __alloc_pages_direct_reclaim (v3.16): __perform_reclaim (try_to_free_pages with PF_MEMALLOC set) and, if it
    /// made progress, a retry at the min watermark — after drain_all_pages if the first retry fails.
    /// </summary>
    private int AllocPagesDirectReclaim(int order, Gfp gfp, int allocFlags, out long progress)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_direct_reclaim");
        progress = PerformReclaim.Run(reclaim, scheduler, clock, order, gfp);
        if (progress == 0) return -1;
        int page = buddy.GetPageFromFreelist(order, gfp, allocFlags);
        if (page >= 0 || pcp is null) return page;
        for (int cpu = 0; cpu < scheduler.Cpus; cpu++) pcp.DrainPages(buddy, cpu); // drain_all_pages
        return buddy.GetPageFromFreelist(order, gfp, allocFlags);
    }

    /// <summary>
    /// __alloc_pages_may_oom (v3.16): one last try at the high watermark (a kill that just freed memory must not be
    /// wasted on a racing allocator), then — except for costly orders — out_of_memory.
    /// </summary>
    private int AllocPagesMayOom(int order, Gfp gfp, out bool killed)
    {
        using var _ = scheduler.Current.Path.Enter("__alloc_pages_may_oom");
        killed = true;
        var zones = node.Zones;
        if (zones.Any(z => (z.Flags & ZoneFlags.OomLocked) != 0))
        {
            clock.ScheduleTimeout(1, "__alloc_pages_may_oom");
            return -1;
        }
        foreach (var z in zones) z.Flags |= ZoneFlags.OomLocked;
        int page = buddy.GetPageFromFreelist(order, gfp, AllocFlags.WmarkHigh);
        if (page < 0 && ((gfp & Gfp.NoFail) != 0 || order <= CostlyOrder)) killed = reclaim.OutOfMemory(gfp, order);
        foreach (var z in zones) z.Flags &= ~ZoneFlags.OomLocked;
        return page;
    }

    /// <summary>should_alloc_retry (v3.16): never with __GFP_NORETRY, always with __GFP_NOFAIL or for order ≤ 3, with __GFP_REPEAT until 2^order pages were reclaimed.</summary>
    private static bool ShouldAllocRetry(Gfp gfp, int order, long progress, long pagesReclaimed)
    {
        if ((gfp & Gfp.NoRetry) != 0) return false;
        if ((gfp & Gfp.NoFail) != 0) return true;
        if (order <= CostlyOrder) return true;
        return (gfp & Gfp.Repeat) != 0 && pagesReclaimed < 1L << order;
    }

    /// <summary>nopage: warn_alloc_failed unless __GFP_NOWARN (ratelimited), and no page.</summary>
    private int Fail(int order, Gfp gfp)
    {
        if ((gfp & Gfp.NoWarn) == 0 && log.Ratelimit("warn_alloc_failed"))
            log.Printk($"{processes.Current?.Comm ?? scheduler.Current.Name}: page allocation failure: order:{order}, mode:0x{(uint)gfp:x}");
        return -1;
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
}
