using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// <c>alloc_pages</c>: the fast path at the low watermark, then the slow path (kswapd, direct compaction,
/// direct reclaim). One implementation per kernel version (<see cref="V3_16.PageAllocator"/>).
/// </summary>
internal partial interface IPageAllocator
{
    /// <summary>__alloc_pages_nodemask: the first PFN of a 2^order block with <c>_count</c> 1, or -1.</summary>
    [Preemptible]
    int AllocPages(int order, Gfp gfp);
}
