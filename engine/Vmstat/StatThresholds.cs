using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// The per-cpu vmstat thresholds /proc/zoneinfo prints (mm/vmstat.c, v3.16; the same in 6.1). At boot
/// <c>refresh_zone_stat_thresholds</c> gives every zone <c>calculate_normal_threshold</c> and, where the drift all CPUs
/// may hold (CPUs × threshold) exceeds low − min, a <c>percpu_drift_mark</c> of high + that drift. kswapd then switches
/// only the zones with a drift mark (<c>set_pgdat_percpu_threshold</c>): to <c>calculate_pressure_threshold</c> when it
/// wakes, back to the normal one, for the zone's managed pages of that moment, when it sleeps for good.
/// </summary>
internal static class StatThresholds
{
    /// <summary>calculate_normal_threshold: min(125, 2 × fls(CPUs) × (1 + fls(managed pages in 128 MiB units))).</summary>
    public static int Normal(Zone zone, int cpus) => Math.Min(125, 2 * Fls(cpus) * (1 + Fls(zone.ManagedPages >> 15)));

    /// <summary>calculate_pressure_threshold: (low − min) / CPUs, at least 1, at most 125.</summary>
    public static int Pressure(Zone zone, int cpus) =>
        (int)Math.Min(125, Math.Max(1, (zone.Watermark[Zone.WmarkLow] - zone.Watermark[Zone.WmarkMin]) / cpus));

    /// <summary>refresh_zone_stat_thresholds, at boot once the watermarks are set.</summary>
    public static void Refresh(Node node, int cpus)
    {
        foreach (var zone in node.Zones)
        {
            int threshold = Normal(zone, cpus);
            zone.StatThreshold = threshold;
            long tolerateDrift = zone.Watermark[Zone.WmarkLow] - zone.Watermark[Zone.WmarkMin], maxDrift = (long)cpus * threshold;
            zone.PercpuDriftMark = maxDrift > tolerateDrift ? zone.Watermark[Zone.WmarkHigh] + maxDrift : 0;
        }
    }

    /// <summary>set_pgdat_percpu_threshold: the pressure or the normal threshold, in the zones with a drift mark only.</summary>
    public static void SetPgdatPercpuThreshold(Node node, int cpus, bool pressure)
    {
        foreach (var zone in node.Zones)
            if (zone.PercpuDriftMark != 0) zone.StatThreshold = pressure ? Pressure(zone, cpus) : Normal(zone, cpus);
    }

    private static int Fls(long x) => x == 0 ? 0 : 64 - (int)long.LeadingZeroCount(x);
}
