using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// shrink_slab → do_shrink_slab (6.1 mm/vmscan.c) over <see cref="ShrinkerList"/>: the workload's reclaimable slab cache
/// (<see cref="ReclaimableSlab"/>), then the virtio balloon's with free page hinting. Each has DEFAULT_SEEKS 2 and
/// SHRINK_BATCH 128. 6.1 sizes the scan by the reclaim priority (<c>freeable &gt;&gt; priority</c>, × 4 / seeks) where
/// v3.16 scaled by the LRU pages scanned; the deferred work is what was asked and not done, capped at twice the count. A
/// shrinker that answers SHRINK_STOP (the slab cache's, as <c>super_cache_scan</c>, in a reclaim without __GFP_FS) defers
/// all the work. Only slab pages count as reclaimed (<c>reclaim_state-&gt;reclaimed_slab</c>): pages a driver's shrinker
/// frees with free_pages do not.
/// </summary>
internal sealed partial class ShrinkSlab(ShrinkerList shrinkers, VmStat vmstat, Scheduler scheduler, SimClock clock)
{
    private const long Seeks = 2, Batch = 128;

    /// <summary>shrink_slab(<paramref name="gfpMask"/>, nid, memcg, <paramref name="priority"/>): the slab pages freed.</summary>
    [Preemptible]
    public long Shrink(PageAlloc.Gfp gfpMask, int priority)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_slab");
        long slabFreed = 0;
        for (int i = 0; i < shrinkers.Count; i++)
        {
            long freed = DoShrinkSlab(i, gfpMask, priority);
            if (shrinkers[i] is ReclaimableSlab) slabFreed += freed;
        }
        return slabFreed;
    }

    /// <summary>do_shrink_slab: shrinker <paramref name="i"/>'s scan in batches, and its deferred work.</summary>
    [Preemptible]
    private long DoShrinkSlab(int i, PageAlloc.Gfp gfpMask, int priority)
    {
        var shrinker = shrinkers[i];
        long freeable = shrinker.CountObjects();
        if (freeable == 0) return 0;
        long nr = shrinkers.GetNrDeferred(i);
        shrinkers.SetNrDeferred(i, 0);
        long delta = (freeable >> priority) * 4 / Seeks;
        long totalScan = Math.Min((nr >> priority) + delta, 2 * freeable);
        long freed = 0, scanned = 0;
        while (totalScan >= Batch || totalScan >= freeable)
        {
            long n = Math.Min(Batch, totalScan);
            long ret = shrinker.ScanObjects(n, gfpMask);
            if (ret == IShrinker.ShrinkStop) break;
            freed += ret;
            vmstat.Count(VmEvent.SlabsScanned, n);
            totalScan -= n;
            scanned += n;
            clock.CondResched();
        }
        shrinkers.SetNrDeferred(i, shrinkers.GetNrDeferred(i) + Math.Min(Math.Max(nr + delta - scanned, 0), 2 * freeable));
        return freed;
    }
}
