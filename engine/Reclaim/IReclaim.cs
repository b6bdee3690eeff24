using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// The mm/vmscan.c and mm/oom_kill.c entry points the page allocator calls: waking kswapd, direct reclaim, and the
/// OOM killer. One implementation per kernel version; <see cref="ReclaimNotModelled"/> where a simulation leaves it out.
/// </summary>
internal partial interface IReclaim
{
    /// <summary>False for the stand-in: there is no kswapd, nothing is reclaimed, nobody is killed.</summary>
    bool Modelled { get; }

    /// <summary>kswapd_is_running (6.1 compaction's test): the node's kswapd is running now; false where there is none.</summary>
    bool KswapdRunning { get; }

    /// <summary>
    /// <c>pgdat-&gt;kswapd_failures &gt;= MAX_RECLAIM_RETRIES</c> (v4.11; /proc/zoneinfo's node_unreclaimable): kswapd gave
    /// up on the node. Always false where reclaim has no such count (v3.16 marks zones all_unreclaimable instead).
    /// </summary>
    bool NodeUnreclaimable { get; }

    /// <summary>wake_all_kswapds: ask each node's kswapd to balance its zones for <paramref name="order"/> on behalf of a <paramref name="gfp"/> request.</summary>
    void WakeAllKswapds(int order, Gfp gfp);

    /// <summary>
    /// wakeup_kswapd(<paramref name="zone"/>, <paramref name="gfp"/>, <paramref name="order"/>, zone_idx(zone)): wake
    /// the zone's node's kswapd to balance the zones up to this one (6.1 rmqueue, after a fallback boosted the zone).
    /// </summary>
    void WakeupKswapd(Zone zone, int order, Gfp gfp);

    /// <summary>try_to_free_pages (from __alloc_pages_direct_reclaim): reclaim for an allocation; its "progress" (pages reclaimed, or 1 when reclaim expects more).</summary>
    [Preemptible]
    long TryToFreePages(int order, Gfp gfp);

    /// <summary>out_of_memory: kill a process to free memory; true if a victim was killed or is already dying.</summary>
    [Preemptible]
    bool OutOfMemory(Gfp gfp, int order);
}
