using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// The mm/vmscan.c entry points the page allocator calls: waking kswapd and direct reclaim. One implementation
/// per kernel version; <see cref="ReclaimNotModelled"/> while a design has none.
/// </summary>
internal interface IReclaim
{
    /// <summary>wake_all_kswapds: ask each node's kswapd to balance its zones for <paramref name="order"/>.</summary>
    void WakeAllKswapds(int order);

    /// <summary>try_to_free_pages (from __alloc_pages_direct_reclaim): reclaim for an allocation; returns the pages reclaimed.</summary>
    long TryToFreePages(int order, Gfp gfp);
}
