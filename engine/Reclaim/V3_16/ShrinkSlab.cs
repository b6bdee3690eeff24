using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// shrink_slab / shrink_slab_node (v3.16 mm/vmscan.c) with the one registered shrinker, the workload's reclaimable
/// slab cache (<see cref="ReclaimableSlab"/>, DEFAULT_SEEKS 2, batch 128): it is asked to scan in proportion to the
/// LRU pages reclaim scanned, work it could not do is deferred to the next call, and the pages it frees count as
/// reclaimed_slab. As the superblock shrinker of the caches it stands for (<c>super_cache_scan</c>) it stops at once
/// (SHRINK_STOP) in a reclaim without __GFP_FS, which defers all the work. docs/kernel/reclaim-v3.16.md §2.18.
/// </summary>
internal sealed partial class ShrinkSlab(ReclaimableSlab cache, VmStat vmstat, Scheduler scheduler, SimClock clock) : ISnapshotState
{
    private const long Seeks = 2, Batch = 128;
    private long _nrDeferred;

    /// <summary>The shrinker's nr_deferred.</summary>
    public object Save() => _nrDeferred;

    public void Restore(object saved) => _nrDeferred = (long)saved;

    /// <summary>shrink_slab(shrink with <paramref name="gfpMask"/>, nr_pages_scanned, lru_pages): returns the slab pages freed.</summary>
    [Preemptible]
    public long Shrink(PageAlloc.Gfp gfpMask, long nrPagesScanned, long lruPages)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_slab");
        if (nrPagesScanned == 0) nrPagesScanned = ScanControl.SwapClusterMax;
        long freeable = cache.Count, freed = 0;
        if (freeable == 0) return 0;
        long nr = _nrDeferred;
        _nrDeferred = 0;
        long totalScan = nr;
        long delta = 4 * nrPagesScanned / Seeks;
        delta = delta * freeable / (lruPages + 1);
        totalScan += delta;
        if (totalScan < 0) totalScan = freeable;
        if (delta < freeable / 4) totalScan = Math.Min(totalScan, freeable / 2);
        totalScan = Math.Min(totalScan, freeable * 2);
        while (totalScan >= Batch || totalScan >= freeable)
        {
            long n = Math.Min(Batch, totalScan);
            if (n == 0 || (gfpMask & PageAlloc.Gfp.Fs) == 0) break; // super_cache_scan: SHRINK_STOP
            freed += cache.Scan(n);
            vmstat.Count(VmEvent.SlabsScanned, n);
            totalScan -= n;
            clock.CondResched(); // an emptied cache scans on (scan_objects frees nothing): the loop ends as total_scan runs out
        }
        if (totalScan > 0) _nrDeferred += totalScan;
        return freed;
    }
}
