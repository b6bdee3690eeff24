using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// shrink_slab → do_shrink_slab (6.1 mm/vmscan.c) with the one registered shrinker, the workload's reclaimable slab cache
/// (<see cref="ReclaimableSlab"/>, DEFAULT_SEEKS 2, SHRINK_BATCH 128). 6.1 sizes the scan by the reclaim priority
/// (<c>freeable &gt;&gt; priority</c>, × 4 / seeks) where v3.16 scaled by the LRU pages scanned; the deferred work is what
/// was asked and not done, capped at twice the cache. As the superblock shrinker of the caches it stands for
/// (<c>super_cache_scan</c>) it stops at once (SHRINK_STOP) in a reclaim without __GFP_FS (a readahead allocation's,
/// under <c>memalloc_nofs_save</c>), which defers all the work.
/// </summary>
internal sealed partial class ShrinkSlab(ReclaimableSlab cache, VmStat vmstat, Scheduler scheduler, SimClock clock) : ISnapshotState
{
    private const long Seeks = 2, Batch = 128;
    private long _nrDeferred;

    /// <summary>The shrinker's nr_deferred.</summary>
    public object Save() => _nrDeferred;

    public void Restore(object saved) => _nrDeferred = (long)saved;

    /// <summary>shrink_slab(<paramref name="gfpMask"/>, nid, memcg, <paramref name="priority"/>): the slab pages freed.</summary>
    [Preemptible]
    public long Shrink(PageAlloc.Gfp gfpMask, int priority)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_slab");
        long freeable = cache.Count;
        if (freeable == 0) return 0;
        long nr = _nrDeferred;
        _nrDeferred = 0;
        long delta = (freeable >> priority) * 4 / Seeks;
        long totalScan = Math.Min((nr >> priority) + delta, 2 * freeable);
        long freed = 0, scanned = 0;
        while (totalScan >= Batch || totalScan >= freeable)
        {
            long n = Math.Min(Batch, totalScan);
            if ((gfpMask & PageAlloc.Gfp.Fs) == 0) break; // super_cache_scan: SHRINK_STOP
            freed += cache.Scan(n);
            vmstat.Count(VmEvent.SlabsScanned, n);
            totalScan -= n;
            scanned += n;
            clock.CondResched();
        }
        _nrDeferred += Math.Min(Math.Max(nr + delta - scanned, 0), 2 * freeable);
        return freed;
    }
}
