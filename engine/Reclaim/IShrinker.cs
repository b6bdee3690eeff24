using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Reclaim;

/// <summary><c>struct shrinker</c>'s callbacks as 6.1's do_shrink_slab calls them (DEFAULT_SEEKS, SHRINK_BATCH: every shrinker here has those).</summary>
internal partial interface IShrinker
{
    /// <summary>count_objects: the objects it could free now.</summary>
    long CountObjects();

    /// <summary>scan_objects: free up to <paramref name="nrToScan"/> objects for a reclaim with <paramref name="gfpMask"/>; what it freed, or <see cref="ShrinkStop"/>.</summary>
    [Preemptible]
    long ScanObjects(long nrToScan, PageAlloc.Gfp gfpMask);

    /// <summary>SHRINK_STOP: the shrinker cannot work in this context; the scan ends and its work is deferred.</summary>
    const long ShrinkStop = -1;
}
