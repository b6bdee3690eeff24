using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction;

/// <summary>
/// Compaction in the background, as kswapd (mm/vmscan.c) asks for it. v3.16: kswapd compacts the node itself after
/// a <c>balance_pgdat</c> round that reclaimed for a high order (<c>compact_pgdat</c>), and clears the skip bits as it
/// goes to sleep (<see cref="V3_16.KswapdCompactPgdat"/>). From v4.6 kswapd no longer compacts: balanced and about to
/// nap, it clears the skip bits and wakes kcompactd for the order it was woken for (<see cref="V4_8.Kcompactd"/>).
/// </summary>
internal partial interface IBackgroundCompaction
{
    /// <summary>balance_pgdat, after a round that reclaimed enough for a high <paramref name="order"/>.</summary>
    [Preemptible]
    void AfterReclaim(int order);

    /// <summary>
    /// kswapd_try_to_sleep with the node balanced, before the HZ/10 nap: <paramref name="order"/> as kswapd's loop has it
    /// (6.1's: its alloc_order; the v3.16 loop's: the order it was woken for), <paramref name="reclaimOrder"/> the order
    /// balance_pgdat finished at, and the classzone.
    /// </summary>
    [Preemptible]
    void BeforeNap(int order, int reclaimOrder, int classzoneIdx);

    /// <summary>kswapd_try_to_sleep, still balanced after the nap: kswapd sleeps until woken.</summary>
    [Preemptible]
    void BeforeSleep();
}
