using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>kswapd on the simulated clock (docs/kernel/reclaim-v3.16.md §3).</summary>
public class KswapdTests
{
    [Test]
    public void Kswapd_v3_16_WakesBelowLow_ReclaimsPageCache_NapsHz10_ThenSleepsAndResetsSkipBits()
    {
        var rig = new PressureRig();
        var kswapd = rig.Get<Kswapd>();
        var zone = rig.Zone;
        rig.Sim.WorkloadFile(40);
        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.Zero, "above the low watermarks nobody wakes kswapd");
        Assert.That(kswapd.StateName, Is.EqualTo("sleeping"));

        rig.Sim.WorkloadAnon(30); // more than is free: the allocator falls below the low watermarks

        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.GreaterThan(0), "wake_all_kswapds, balance_pgdat");
        Assert.That(rig.EventAllZones(VmEvent.PgstealKswapdDma), Is.GreaterThan(0), "kswapd reclaimed page cache");
        Assert.That(rig.Event(VmEvent.Allocstall), Is.Zero, "kswapd kept up: no direct reclaim");
        Assert.That(kswapd.StateName, Is.EqualTo("napping"));

        rig.Sim.WorkloadFree(0.5, "interleave", 0); // now every zone is above its high watermark
        zone.PageblockSkip[3] = true;               // a skip bit compaction set ...
        zone.CompactBlockskipFlush = true;          // ... with a flush due
        rig.Sim.Run(50);
        Assert.That(kswapd.StateName, Is.EqualTo("napping"), "HZ/10 = 100 ms");
        rig.Sim.Run(60);
        Assert.That(kswapd.StateName, Is.EqualTo("sleeping"));
        Assert.That(zone.PageblockSkip, Has.None.True, "reset_isolation_suitable when kswapd goes to sleep");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// The vmstat thresholds /proc/zoneinfo prints (v3.16 and 6.1 vmstat.c): refresh_zone_stat_thresholds gives each zone
    /// calculate_normal_threshold (2 × fls(CPUs) × (1 + fls(managed / 32768)), at most 125) and a percpu_drift_mark only
    /// where CPUs × threshold exceeds low − min; kswapd_try_to_sleep's set_pgdat_percpu_threshold switches only those
    /// zones, to calculate_pressure_threshold ((low − min) / CPUs) while kswapd is awake and back when it sleeps. With 2
    /// CPUs neither zone of a 64 MiB guest has a drift mark (4 × 2 against 16 and 48 pages): the thresholds never move.
    /// With 8 (8 × 8 = 64 against 16 and 48) both switch.
    /// </summary>
    [TestCase("fixed", 2)]
    [TestCase("fixed", 8)]
    [TestCase("v6.1", 2)]
    [TestCase("v6.1", 8)]
    public void ZoneinfoThreshold_SwitchesToThePressureOneWhileKswapdIsAwake_OnlyInZonesWithADriftMark(string design, int cpus)
    {
        var rig = new SimRig(TestOptions.Classic(64, cpus, 1, design) with { Reclaim = true });
        KswapdThread kswapd = design == "v6.1" ? rig.Get<Engine.Reclaim.V6_1.Kswapd>() : rig.Get<Kswapd>();
        var zones = rig.Node.Zones;
        int Fls(long x) => x == 0 ? 0 : 64 - (int)long.LeadingZeroCount(x);
        long Normal(Zone z) => Math.Min(125, 2 * Fls(cpus) * (1 + Fls(z.ManagedPages >> 15)));
        long Pressure(Zone z) => Math.Min(125, Math.Max(1, (z.Watermark[Zone.WmarkLow] - z.Watermark[Zone.WmarkMin]) / cpus));
        bool DriftMark(Zone z) => cpus * Normal(z) > z.Watermark[Zone.WmarkLow] - z.Watermark[Zone.WmarkMin];
        long[] Thresholds() => zones.Select(z => long.Parse(System.Text.RegularExpressions.Regex.Match(rig.Sim.Zoneinfo(),
            $@"zone\s+{z.Name}\b[\s\S]*?vm stats threshold: (\d+)").Groups[1].Value)).ToArray();
        Assert.That(zones.Select(DriftMark), Is.All.EqualTo(cpus == 8), "precondition: the drift marks as the summary says");
        Assert.That(zones.Select(z => Pressure(z) != Normal(z)), Is.All.True, "precondition: the two thresholds differ");
        Assert.That(Thresholds(), Is.EqualTo(zones.Select(Normal)), "at boot");

        rig.Sim.WorkloadFile(40);
        rig.Sim.WorkloadAnon(30);
        Assert.That(kswapd.StateName, Is.Not.EqualTo("sleeping"), "precondition: kswapd woken");
        Assert.That(Thresholds(), Is.EqualTo(zones.Select(z => DriftMark(z) ? Pressure(z) : Normal(z))), "kswapd awake");

        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        rig.Sim.Run(1000);
        Assert.That(kswapd.StateName, Is.EqualTo("sleeping"), "precondition: kswapd asleep");
        Assert.That(Thresholds(), Is.EqualTo(zones.Select(Normal)), "kswapd asleep again");
    }

    [Test]
    public void Kswapd_v3_16_WokenDuringItsNap_CountsLowWmarkHitQuickly()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadFile(40);
        rig.Sim.WorkloadAnon(30);
        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("napping"));
        long quickly = rig.Event(VmEvent.KswapdLowWmarkHitQuickly);

        rig.Sim.WorkloadAnon(8);

        Assert.That(rig.Event(VmEvent.KswapdLowWmarkHitQuickly), Is.GreaterThan(quickly));
    }

    /// <summary>
    /// wake_all_kswapds (v3.16) calls wakeup_kswapd for each zone, highest first; kswapd cannot have run to its nap before
    /// the lower zones are asked, so one call runs balance_pgdat once, even when a lower zone is still unbalanced at the
    /// order afterwards (a run to completion runs kswapd nested in the first wake-up: the lower zones must not wake it
    /// again from its nap, which counted kswapd_low_wmark_hit_quickly and a second pageoutrun).
    /// </summary>
    [Test]
    public void WakeAllKswapds_v3_16_OneCallRunsKswapdOnce_EvenWithALowerZoneStillUnbalanced()
    {
        var rig = new PressureRig();
        var workload = rig.Get<Workload.Workload>();
        rig.Sim.WorkloadFile(workload.AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0); // both zones half free, in holes: no order-9 block after kswapd's run
        rig.Sim.Run(1000);
        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("sleeping"), "precondition");
        long runs = rig.Event(VmEvent.Pageoutrun), low = rig.Event(VmEvent.KswapdLowWmarkHitQuickly),
            high = rig.Event(VmEvent.KswapdHighWmarkHitQuickly);

        rig.Get<IReclaim>().WakeAllKswapds(9, Gfp.HighUserMovable);

        // One wake-up: balance_pgdat, and once more for each round kswapd_try_to_sleep found the node unbalanced.
        Assert.That(rig.Event(VmEvent.Pageoutrun) - runs, Is.EqualTo(1 + rig.Event(VmEvent.KswapdHighWmarkHitQuickly) - high),
            "the rounds of one wake-up (with the lower zone asked again: 4 runs, one wake-up more)");
        Assert.That(rig.Event(VmEvent.KswapdLowWmarkHitQuickly), Is.EqualTo(low), "not woken again during its nap");
        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("napping"));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
