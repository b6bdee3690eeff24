using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Snapshots;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Snapshots;

/// <summary>
/// sim.snapshot() / sim.restore() / sim.fork(): the whole guest copied and put back bit for bit, forks independent of
/// their parent, and every stateful part covered (a part added later that holds state fails here until it is saved or
/// marked as not state).
/// </summary>
public class SnapshotTests
{
    /// <summary>The default model (reclaim, pagevecs, the tick) with swap, so every part of memory pressure holds state.</summary>
    private static SimulationOptions Options(string design, bool pcp = false) =>
        new() { MemoryMib = 64, Design = KernelDesign.Parse(design), Cpus = 2, Seed = 3, PerCpuLists = pcp, SwapMib = 16 };

    /// <summary>
    /// Work that changes every part: workload (processes, dirty page cache, reclaimable slab, accesses), holes,
    /// balloon, compaction, THP faults, then pressure from the host's target (reclaim, swap, kswapd's timers, the
    /// balloon thread asleep after "Out of puff!") left in flight as time passes.
    /// </summary>
    private static void Churn(Simulation sim, int round)
    {
        // A balloon that reached the last round's target leaves fewer managed pages (adjust_managed_page_count).
        sim.WorkloadAnon(Math.Min(12, sim.Services.GetRequiredService<Workload.Workload>().AllocatablePages() / 256.0));
        sim.WorkloadFile(6, dirty: 0.3);
        sim.WorkloadSlab(1, reclaimable: true);
        sim.WorkloadSlab(1);
        sim.WorkloadTouch(0.3, "all", "random", round);
        sim.WorkloadFree(0.5, "random", round);
        sim.BalloonInflate(Math.Min(8, sim.InflatableMaxPages() / 256.0)); // v6.1's balloon may have reached the target already
        sim.WorkloadFree(0.6, "interleave", 0);
        sim.Compact();
        sim.Allocate(9, 4);
        sim.BalloonDeflate(2);
        sim.WorkloadAnon(10);
        sim.HostSetTarget(52 + round);
        sim.Run(30);
    }

    /// <summary>What "bit for bit" compares: page map, every struct page field, lists, /proc text, vmstat, history, reports, host.</summary>
    private static object[] Fingerprint(SimRig rig)
    {
        var sim = rig.Sim;
        var p = rig.Pages;
        return
        [
            sim.PageMap(), p.Flags.ToArray(), p.Count.ToArray(), p.MapCount.ToArray(), p.Mapping.ToArray(), p.Private.ToArray(),
            p.Index.ToArray(), p.Content.ToArray(), rig.Lists.Save(), sim.Buddyinfo() + sim.Pagetypeinfo(), sim.VmstatValues(),
            sim.HistoryOps.ToArray(), sim.HistoryValues(), sim.Reports.Select(r => r.ToString()).ToArray(),
            sim.BalloonPages, sim.HostBallooned, sim.ClockMs, rig.Scheduler.Step,
        ];
    }

    [TestCaseSource(nameof(DesignsWithAndWithoutPcp))]
    public void EveryStatefulPart_IsSnapshottedOrMarkedNotState(string design, bool pcp)
    {
        var graph = new StateGraph(Options(design, pcp));
        var missing = graph.Singletons.SelectMany(s => graph.Unsnapshotted(s.Class)).Distinct().ToList();
        Assert.That(missing, Is.Empty,
            "these fields hold state no snapshot saves: implement ISnapshotState (Engine/Snapshots) or mark them [NotState(why)]");
    }

    [TestCaseSource(nameof(DesignsWithAndWithoutPcp))]
    public void Restore_IntoAFreshSimulation_EqualsTheParentFieldByField(string design, bool pcp)
    {
        var graph = new StateGraph(Options(design, pcp));
        var parent = new SimRig(Options(design, pcp));
        Churn(parent.Sim, 1);
        parent.Sim.Run(300); // past the balloon thread's first 200 ms sleep, which the 6.1 allocator's watermarks bring earlier
        var child = new SimRig(Options(design, pcp));
        child.Sim.Restore(parent.Sim.Snapshot());

        var differences = graph.Singletons.SelectMany(s => graph.Differences(parent.Get(s.Service), child.Get(s.Service), s.Class.Name)).ToList();

        Assert.That(parent.Sim.HistoryOps, Has.Count.GreaterThanOrEqualTo(15), "precondition: the parent has a history");
        Assert.That(parent.Sim.VmstatValues()[Array.IndexOf(parent.Sim.VmstatNames(), "pswpout")], Is.GreaterThan(0),
            "precondition: reclaim swapped pages out");
        Assert.That(differences, Is.Empty, "state a snapshot does not carry: save it in the part's ISnapshotState");
    }

    [TestCaseSource(nameof(DesignsWithAndWithoutPcp))]
    public void SnapshotRestore_RoundTripsBitForBit(string design, bool pcp)
    {
        var rig = new SimRig(Options(design, pcp));
        Churn(rig.Sim, 1);
        var snapshot = rig.Sim.Snapshot();
        var before = Fingerprint(rig);

        Churn(rig.Sim, 2);
        Assert.That(Fingerprint(rig), Is.Not.EqualTo(before), "precondition: the state moved on");
        rig.Sim.Restore(snapshot);
        Assert.That(Fingerprint(rig), Is.EqualTo(before));

        Churn(rig.Sim, 3);
        rig.Sim.Restore(snapshot);
        Assert.That(Fingerprint(rig), Is.EqualTo(before), "a snapshot can be restored again and again");
    }

    [TestCaseSource(nameof(DesignsWithAndWithoutPcp))]
    public void RestoreAgain_CopyingBackOnlyTheChunksWrittenSince_EqualsAFullRestoreFieldByField(string design, bool pcp)
    {
        var graph = new StateGraph(Options(design, pcp));
        var rig = new SimRig(Options(design, pcp));
        Churn(rig.Sim, 1);
        var snapshot = rig.Sim.Snapshot();
        rig.Sim.Restore(snapshot); // in full: from here the pages know which chunks are written
        Churn(rig.Sim, 2);
        rig.Sim.Restore(snapshot); // only the chunks written since
        var fresh = new SimRig(Options(design, pcp));
        fresh.Sim.Restore(snapshot);

        var differences = graph.Singletons.SelectMany(s => graph.Differences(fresh.Get(s.Service), rig.Get(s.Service), s.Class.Name)).ToList();

        Assert.That(differences, Is.Empty);
        Assert.That(Fingerprint(rig), Is.EqualTo(Fingerprint(fresh)));
    }

    [Test]
    public void SnapshotRestore_LegacyWithReports_KeepsExactlyTheReportsOfTheSnapshot()
    {
        var rig = new SimRig(Options("legacy"));
        Churn(rig.Sim, 1);
        var reports = rig.Sim.Reports.ToArray();
        var snapshot = rig.Sim.Snapshot();
        Churn(rig.Sim, 2);

        rig.Sim.Restore(snapshot);

        Assert.That(reports, Is.Not.Empty, "precondition: legacy compaction strands balloon pages");
        Assert.That(rig.Sim.Reports, Is.EqualTo(reports));
    }

    [Test]
    public void Fork_IsAnEqualCopy_ThatDivergesWithoutTouchingItsParent()
    {
        var parent = Simulation.Create(Options("redesign", pcp: true));
        Churn(parent, 1);
        var child = parent.Fork();

        Assert.That(child.Options, Is.SameAs(parent.Options));
        Assert.That(child.PageMap(), Is.EqualTo(parent.PageMap()));
        Assert.That(child.HistoryValues(), Is.EqualTo(parent.HistoryValues()));
        Assert.That(child.VmstatValues(), Is.EqualTo(parent.VmstatValues()));

        var parentMap = parent.PageMap();
        var parentVmstat = parent.VmstatValues();
        var parentHistory = parent.HistoryValues();
        Churn(child, 2);

        Assert.That(child.PageMap(), Is.Not.EqualTo(parentMap));
        Assert.That(parent.PageMap(), Is.EqualTo(parentMap));
        Assert.That(parent.VmstatValues(), Is.EqualTo(parentVmstat));
        Assert.That(parent.HistoryValues(), Is.EqualTo(parentHistory));
    }

    [Test]
    public void Fork_ThenTheSameOperations_GivesTheSameResultAsTheParent()
    {
        var parent = Simulation.Create(Options("legacy"));
        Churn(parent, 1);
        var child = parent.Fork();

        Churn(parent, 2);
        Churn(child, 2);

        Assert.That(child.PageMap(), Is.EqualTo(parent.PageMap()));
        Assert.That(child.Reports.Select(r => r.ToString()), Is.EqualTo(parent.Reports.Select(r => r.ToString())));
        Assert.That(child.HistoryValues(), Is.EqualTo(parent.HistoryValues()));
    }

    [Test]
    public void Restore_SnapshotOfOtherOptions_IsRejectedNamingThem_AndChangesNothing()
    {
        var a = Simulation.Create(Options("legacy"));
        var b = Simulation.Create(new SimulationOptions { MemoryMib = 32, Design = KernelDesign.Fixed, Cpus = 2, Seed = 3 });
        b.WorkloadAnon(4);
        var map = b.PageMap();

        var e = Assert.Throws<ArgumentException>(() => b.Restore(a.Snapshot()))!;

        Assert.That(e.Message, Does.Contain("snapshot").And.Contain("memory_mib 32 vs 64").And.Contain("design fixed vs legacy"));
        Assert.That(b.PageMap(), Is.EqualTo(map));
        Assert.Throws<ArgumentException>(() => b.Restore(null!));
    }

    private static IEnumerable<object[]> DesignsWithAndWithoutPcp() =>
        KernelDesign.Names.SelectMany(d => new[] { new object[] { d, false }, new object[] { d, true } });
}
