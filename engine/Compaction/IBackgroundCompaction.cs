namespace BalloonScript.Engine.Compaction;

/// <summary>
/// Compaction in the background, as kswapd (mm/vmscan.c) asks for it. v3.16: kswapd compacts the node itself after
/// a <c>balance_pgdat</c> round that reclaimed for a high order (<c>compact_pgdat</c>), and clears the skip bits as it
/// goes to sleep (<see cref="V3_16.KswapdCompactPgdat"/>). From v4.6 kswapd no longer compacts: balanced and about to
/// nap, it clears the skip bits and wakes kcompactd for the order it was woken for (<see cref="V4_8.Kcompactd"/>).
/// </summary>
internal interface IBackgroundCompaction
{
    /// <summary>balance_pgdat, after a round that reclaimed enough for a high <paramref name="order"/>.</summary>
    void AfterReclaim(int order);

    /// <summary>kswapd_try_to_sleep with the node balanced, before the HZ/10 nap: the order and classzone kswapd was woken for.</summary>
    void BeforeNap(int order, int classzoneIdx);

    /// <summary>kswapd_try_to_sleep, still balanced after the nap: kswapd sleeps until woken.</summary>
    void BeforeSleep();
}
