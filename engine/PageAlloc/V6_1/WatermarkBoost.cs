using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// Watermark boosting (6.1): <c>boost_watermark</c> raises a zone's <c>watermark_boost</c> by a pageblock on each
/// fragmenting fallback (up to <c>watermark_boost_factor</c>/10000 of the high mark, at least a pageblock), which every
/// <c>wmark_pages</c> adds on top; a wake of kswapd while a zone is boosted ends the boost as 6.1 kswapd's
/// <c>balance_pgdat</c> does: each zone's boost is taken back and kcompactd is woken at pageblock order.
/// <para>
/// 6.1 kswapd (<see cref="Reclaim.V6_1.Kswapd"/>) does the boost reclaim itself (<c>nr_boost_reclaim</c>) and ends the
/// boost. Without reclaim there is no kswapd pass at all: the wake takes the boosts back and wakes kcompactd here, the
/// epilogue of that pass (docs/model.md says so).
/// </para>
/// </summary>
internal sealed partial class WatermarkBoost(Node node, SimulationOptions options, Lazy<IReclaim> reclaim, Lazy<Kcompactd> kcompactd)
{
    /// <summary>watermark_boost_factor's default (sysctl vm.watermark_boost_factor).</summary>
    public const int DefaultFactor = 15000;

    /// <summary>vm.watermark_boost_factor of this simulation.</summary>
    public int Factor { get; } = options.WatermarkBoostFactor ?? DefaultFactor;

    /// <summary>
    /// boost_watermark: nothing if the factor is 0, the zone has fewer than four pageblocks managed, or the high mark
    /// scaled by the factor is 0; otherwise the boost grows by a pageblock up to max(pageblock, high × factor / 10000).
    /// True if the zone was boosted.
    /// </summary>
    public bool BoostWatermark(Zone zone)
    {
        if (Factor == 0 || Zone.PageblockNrPages * 4 > zone.ManagedPages) return false;
        long maxBoost = MultFrac(zone.Watermark[Zone.WmarkHigh], Factor, 10000);
        if (maxBoost == 0) return false;
        maxBoost = Math.Max(Zone.PageblockNrPages, maxBoost);
        zone.WatermarkBoost = Math.Min(zone.WatermarkBoost + Zone.PageblockNrPages, maxBoost);
        return true;
    }

    /// <summary>
    /// wake_all_kswapds (6.1, the slow path with ALLOC_KSWAPD): wake kswapd for <paramref name="order"/>; without reclaim
    /// a node with a boosted zone gets kswapd's boost epilogue here.
    /// </summary>
    [Preemptible]
    public void WakeAllKswapds(int order, Gfp gfp)
    {
        reclaim.Value.WakeAllKswapds(order, gfp);
        if (!reclaim.Value.Modelled) EndBoost();
    }

    /// <summary>
    /// rmqueue's <c>wakeup_kswapd(zone, 0, 0, zone_idx(zone))</c> after a fallback flagged ZONE_BOOSTED_WATERMARK: kswapd
    /// balances the zones up to the boosted one; without reclaim, the boost epilogue.
    /// </summary>
    [Preemptible]
    public void WakeupKswapd(Zone zone)
    {
        reclaim.Value.WakeupKswapd(zone, 0, 0);
        if (!reclaim.Value.Modelled) EndBoost();
    }

    /// <summary>The end of a boosted 6.1 balance_pgdat, without kswapd: the boosts are taken back and kcompactd is woken at pageblock order.</summary>
    [Preemptible]
    private void EndBoost()
    {
        bool boosted = false;
        foreach (var zone in node.Zones)
        {
            if (zone.WatermarkBoost == 0) continue;
            zone.Lock.Lock();
            zone.WatermarkBoost = 0;
            zone.Lock.Unlock();
            boosted = true;
        }
        if (boosted) kcompactd.Value.Wakeup(Zone.PageblockOrder, node.Zones.Count - 1);
    }

    /// <summary>mult_frac(x, n, d): x × n / d without overflowing x × n.</summary>
    public static long MultFrac(long x, long n, long d) => x / d * n + x % d * n / d;
}
