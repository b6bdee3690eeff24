using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>
/// alloc_pages with direct compaction (v3.16 __alloc_pages_slowpath → __alloc_pages_direct_compact →
/// try_to_compact_pages), through Simulation.Allocate.
/// </summary>
public class DirectCompactionTests
{
    /// <summary>Unmovable slab filling the guest, every other page freed: compaction can run but never helps.</summary>
    private static Rig FragmentedSlab()
    {
        var rig = Rig.Create(64);
        rig.Sim.WorkloadSlab(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        return rig;
    }

    private static (long stall, long fail, long success) Compaction(Rig rig) =>
        (rig.Event(VmEvent.CompactStall), rig.Event(VmEvent.CompactFail), rig.Event(VmEvent.CompactSuccess));

    [Test]
    public void AllocPagesDirectCompact_v3_16_ThpFaultsSucceedAfterFragmentationWhereTheFastPathFailed()
    {
        var rig = Rig.Create(128).FragmentedAnon();
        Assert.That(rig.Sim.FreeBlocks().Skip(9).Sum(), Is.Zero, "precondition: no free order-9 block, the fast path must fail");

        long got = rig.Sim.Allocate(9, 3);

        Assert.That(got, Is.EqualTo(3));
        Assert.That(Compaction(rig), Is.EqualTo((3L, 0L, 3L)), "one compact_stall and one compact_success per fault");
        Assert.That(rig.Event(VmEvent.ThpFaultAlloc), Is.EqualTo(3));
        Assert.That(rig.Event(VmEvent.ThpFaultFallback), Is.Zero);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.GreaterThan(0));
        Assert.That(rig.Sim.PageMap().Count(k => k == (byte)PageKind.Kernel), Is.EqualTo(3 * 512));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void AllocPagesSlowpath_v3_16_FailedSyncLightCompactionDefersTheFollowingAttempts()
    {
        var rig = FragmentedSlab();
        var zone = rig.Node.HighestZone;
        Assert.That(rig.Sim.FreeBlocks().Skip(8).Sum(), Is.Zero, "precondition");

        // Async attempt fails (not deferred), then the sync-light attempt fails and defers: shift 1.
        Assert.That(rig.Sim.Allocate(8, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((2L, 2L, 0L)));
        Assert.That((zone.CompactDeferShift, zone.CompactOrderFailed), Is.EqualTo((1, 0)), "min(0 from boot, 8)");

        // considered 1 < 2: the first attempt is deferred; considered 2: the last one runs, fails, shift 2.
        Assert.That(rig.Sim.Allocate(8, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((3L, 3L, 0L)));
        Assert.That(zone.CompactDeferShift, Is.EqualTo(2));

        // considered 1 and 2 < 4: both attempts deferred, no compaction at all.
        Assert.That(rig.Sim.Allocate(8, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((3L, 3L, 0L)));

        // considered 3 < 4 deferred, then 4: runs, fails, shift 3.
        Assert.That(rig.Sim.Allocate(8, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((4L, 4L, 0L)));
        Assert.That(zone.CompactDeferShift, Is.EqualTo(3));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// compact_order_failed starts at 0 (nothing sets it at boot), and defer_compaction keeps the lowest failed order: after
    /// the order-8 failure it is still 0, so an order-7 request's first attempt falls in the window and is deferred too.
    /// </summary>
    [Test]
    public void AllocPagesSlowpath_v3_16_AFailureFromBootDefersALowerOrderToo()
    {
        var rig = FragmentedSlab();
        Assert.That(rig.Sim.Allocate(8, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((2L, 2L, 0L)));

        // Order 7 fails the fast path too (its watermark). considered 1 < 2: the async attempt is deferred; considered 2:
        // the sync-light one runs and fails.
        Assert.That(rig.Sim.Allocate(7, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((3L, 3L, 0L)));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void AllocPagesSlowpath_v3_16_ThpCompactsAsyncTwiceNeverDefersAndGivesUpWhenDeferred()
    {
        var rig = FragmentedSlab();
        var zone = rig.Node.HighestZone;

        Assert.That(rig.Sim.Allocate(9, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((2L, 2L, 0L)), "async attempt, then the last attempt, async again for THP");
        Assert.That(zone.CompactDeferShift, Is.Zero, "async failures do not defer");
        Assert.That(rig.Event(VmEvent.ThpFaultFallback), Is.EqualTo(1));

        rig.Get<Deferral>().DeferCompaction(zone, 9); // as a failed sync compaction at order 9 would
        Assert.That(rig.Sim.Allocate(9, 1), Is.Zero);
        Assert.That(Compaction(rig), Is.EqualTo((2L, 2L, 0L)), "deferred THP fault gives up without compacting");
        Assert.That(rig.Event(VmEvent.ThpFaultFallback), Is.EqualTo(2));
    }

    [Test]
    public void Allocate_RejectsOrderOrCountOutOfRangeAndLeavesTheSimulationUnchanged()
    {
        var sim = Rig.Create(64).FragmentedAnon().Sim;
        var vmstat = sim.VmstatValues();
        var map = sim.PageMap();
        int history = sim.HistoryOps.Count;

        var order = Assert.Throws<ArgumentOutOfRangeException>(() => sim.Allocate(11, 1))!;
        var count = Assert.Throws<ArgumentOutOfRangeException>(() => sim.Allocate(9, -1))!;
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Allocate(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Allocate(0, Simulation.MaxAllocateCount + 1));

        Assert.That(order.Message, Does.Contain("order").And.Contain("[0, 10]"));
        Assert.That(count.Message, Does.Contain("count").And.Contain("[0, 10000000]"));
        Assert.That(sim.VmstatValues(), Is.EqualTo(vmstat));
        Assert.That(sim.PageMap(), Is.EqualTo(map));
        Assert.That(sim.HistoryOps.Count, Is.EqualTo(history));
    }
}
