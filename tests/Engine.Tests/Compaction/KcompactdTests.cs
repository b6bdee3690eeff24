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
    /// A 64 MiB guest full of page cache with every other page freed, then anon memory for 41 % of it (filling the holes
    /// first), then 5 order-8 allocations: one falls below the low watermark at order 8 and wakes kswapd for order 8,
    /// whose balance_pgdat reclaims 2 &lt;&lt; 8 pages of page cache without an order-8 block and falls back to order 0,
    /// balanced there with free pages enough to compact. (v4.8 wakes kcompactd only after such a fallback.) At 43 % and
    /// more, with the anon pages' page tables allocated too, an allocation compacts directly.
    /// </summary>
    private static PressureRig OrderEightPressure(string design)
    {
        var rig = new PressureRig(64, design: design);
        var workload = rig.Get<Workload.Workload>();
        rig.Sim.WorkloadFile(workload.AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        rig.Sim.WorkloadAnon(workload.AllocatablePages() / 256.0 * 0.41);
        rig.Sim.Allocate(8, 5);
        return rig;
    }

    [Test]
    public void Kcompactd_v4_8_WokenByKswapdBeforeItsNap_CompactsForTheOrder_NoTimerWakesItAgain()
    {
        var rig = OrderEightPressure("movable");

        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("napping"), "kswapd balanced the node and naps HZ/10");
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1), "wakeup_kcompactd(pgdat, 8, classzone) before the nap: compact_daemon_wake");
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
        var rig = OrderEightPressure("legacy");

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

    /// <summary>
    /// v4.8 kswapd() (WindRiver 4.8.18 mm/vmscan.c): kswapd_try_to_sleep wakes kcompactd for the order kswapd was woken
    /// for only when balance_pgdat fell back to a lower order ("kcompactd is woken to compact for the original request");
    /// balanced at that order, alloc_order becomes the order recorded since, none here, and kcompactd stays asleep. The
    /// guest: page cache with every other page freed, so compaction is suitable at order 9 in both zones.
    /// </summary>
    [TestCase(0, 1)]
    [TestCase(9, 0)]
    public void KswapdTryToSleep_v4_8_WakesKcompactdForTheOriginalOrderOnlyIfReclaimFellBack(int reclaimOrder, int wakes)
    {
        var rig = new PressureRig(64, design: "movable");
        rig.Sim.WorkloadFile(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        var background = rig.Get<IBackgroundCompaction>();
        int classzone = rig.Node.Zones.Count - 1;

        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "kswapd_try_to_sleep", () => background.BeforeNap(9, reclaimOrder, classzone))], null);

        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(wakes));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
