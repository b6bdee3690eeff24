using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V4_8;
using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Tests.Reclaim;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>
/// kcompactd (v4.8 mm/compaction.c, docs/kernel/movable-v4.8.md §3.10) on the simulated clock: woken by kswapd when
/// it has balanced the node and is about to nap (v4.8 kswapd_try_to_sleep), never by a timer (v4.8 has no proactive
/// compaction); v3.16's kswapd compacts itself instead.
/// </summary>
public class KcompactdTests
{
    /// <summary>
    /// A 64 MiB guest full of page cache with every other page freed, then anon memory for 42 % of it (filling the holes
    /// first), then 20 order-3 allocations: one falls below the low watermark at order 3 and wakes kswapd for order 3,
    /// which finds the node balanced at order 0 with free pages enough to compact. (With anon up to the low watermarks,
    /// kswapd's reclaim keeps the zone reclaimable, since each free resets pages_scanned, and direct compaction comes first.)
    /// </summary>
    private static PressureRig OrderThreePressure(string design)
    {
        var rig = new PressureRig(64, design: design);
        var workload = rig.Get<Workload.Workload>();
        rig.Sim.WorkloadFile(workload.AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        rig.Sim.WorkloadAnon(workload.AllocatablePages() / 256.0 * 0.42);
        rig.Sim.Allocate(3, 20);
        return rig;
    }

    [Test]
    public void Kcompactd_v4_8_WokenByKswapdBeforeItsNap_CompactsForTheOrder_NoTimerWakesItAgain()
    {
        var rig = OrderThreePressure("movable");

        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("napping"), "kswapd balanced the node and naps HZ/10");
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1), "wakeup_kcompactd(pgdat, 3, classzone) before the nap: compact_daemon_wake");
        Assert.That(rig.Event(VmEvent.CompactMigrateScanned), Is.Positive, "kcompactd_do_work: compact_zone, MIGRATE_SYNC_LIGHT");
        Assert.That(rig.Event(VmEvent.CompactStall), Is.Zero, "no direct compaction: the allocations succeeded");

        rig.Sim.Run(1000);

        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("sleeping"));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1), "a second of simulated time: v4.8 kcompactd has no timer");
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain("\ncompact_success 0\ncompact_daemon_wake 1\n"), "/proc/vmstat prints it after compact_success");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void KswapdCompactPgdat_v3_16_SameRequests_NoKcompactd()
    {
        var rig = OrderThreePressure("legacy");

        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.Positive);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero);
        Assert.That(rig.Sim.ProcVmstat(), Does.Not.Contain("compact_daemon_wake"), "v3.16 has no such counter");
    }

    [Test]
    public void WakeupKcompactd_v4_8_OrderZeroIsIgnored_NotSuitableZoneLeavesItAsleep()
    {
        var rig = new PressureRig(64, design: "movable");
        var kcompactd = rig.Get<Kcompactd>();
        kcompactd.WakeupKcompactd(0, rig.Node.Zones.Count - 1);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero, "order 0: nothing");
        kcompactd.WakeupKcompactd(3, rig.Node.Zones.Count - 1);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero,
            "a fresh guest: compaction_suitable is not COMPACT_CONTINUE in any zone (order-3 blocks are free), kcompactd_node_suitable false");
        Assert.That(rig.Get<IBackgroundCompaction>(), Is.SameAs(kcompactd));
    }
}
