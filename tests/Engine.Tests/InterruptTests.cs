using System.Diagnostics;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;
using static BalloonScript.Engine.Tests.Sched.SchedulerTests;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// Ctrl-C (issue 7, item 4): with the fatal signal pending, long operations stop where the kernel tests
/// fatal_signal_pending, return normally and leave a consistent guest that works again once the signal is cleared;
/// explorations stop between schedules and inside one.
/// </summary>
public class InterruptTests
{
    private static SimRig Fragmented(string design)
    {
        var rig = new SimRig(new SimulationOptions { MemoryMib = 64, Design = KernelDesign.Parse(design), Cpus = 2, Seed = 1 });
        rig.Sim.WorkloadAnon(40);
        rig.Sim.WorkloadFree(0.5, "random", 0); // not "interleave": v6.1's free scanner misses an odd interleave (CompactionV6_1Tests)
        rig.Sim.BalloonInflate(4);
        return rig;
    }

    [Test]
    public void Compact_WithTheSignalPending_StopsAtCompactFinishedAndWorksOnceCleared([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Fragmented(design).Sim;
        sim.Interrupted = true;

        var stopped = sim.Compact();

        Assert.That(stopped.ZoneOutcomes, Is.All.EqualTo("COMPACT_PARTIAL"), "compact_finished: a fatal signal is COMPACT_PARTIAL");
        Assert.That((stopped.MigrateScanned, stopped.Migrated), Is.EqualTo((0L, 0L)));
        Assert.That(sim.Interrupted, Is.True, "the caller clears it");
        Assert.That(sim.Reports.Where(r => r.KindName != "balloon_unmovable"), Is.Empty, "the checks after the stopped operation find nothing");
        sim.Interrupted = false;

        var full = sim.Compact();

        Assert.That(full.ZoneOutcomes, Is.All.EqualTo("COMPACT_COMPLETE"));
        Assert.That(full.Migrated, Is.Positive);
    }

    [Test]
    public void PopulateAllocateFreeAndBalloon_WithTheSignalPending_DoNothingAndWorkOnceCleared()
    {
        var rig = Fragmented("fixed");
        var sim = rig.Sim;
        long thp = rig.VmStat.Event(VmEvent.ThpFaultAlloc) + rig.VmStat.Event(VmEvent.ThpFaultFallback);
        sim.Interrupted = true;

        Assert.That(new[] { sim.WorkloadAnon(4), sim.Allocate(9, 4), sim.WorkloadFree(1.0, "random", 1), sim.BalloonInflate(2), sim.BalloonDeflate(2) },
            Is.All.Zero);
        Assert.That(rig.VmStat.Event(VmEvent.ThpFaultAlloc) + rig.VmStat.Event(VmEvent.ThpFaultFallback), Is.EqualTo(thp), "no fault was attempted");
        sim.Interrupted = false;

        Assert.That(new[] { sim.WorkloadAnon(4), sim.WorkloadFree(0.5, "random", 1), sim.BalloonInflate(2), sim.BalloonDeflate(2) },
            Is.All.Positive);
        Assert.That(sim.Reports, Is.Empty);
    }

    [Test]
    public void SwitchingRun_WithTheSignalRaised_IsAbortedAtAPreemptionPointAndIsNoDeadlock()
    {
        var signal = new FatalSignal();
        var s = NewScheduler(2, signal);
        int steps = 0;
        void Spin()
        {
            while (true)
            {
                s.Preempt("spin");
                if (++steps == 100) signal.Raised = true;
            }
        }

        var outcome = Guarded(() => s.Run([new SimTask(0, 0, "a", Spin), new SimTask(1, 1, "b", Spin)], new RandomStrategy(1)));

        Assert.That(outcome.Interrupted, Is.True);
        Assert.That(outcome.Deadlock, Is.Null);
        Assert.That(outcome.Completed, Is.False);
    }

    [Test]
    public void Explore_Cancelled_RunsNoFurtherSchedule()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        var result = Explorer.Explore("deflate-vs-isolate", "legacy", "random", 100, 1, cancel: cancel.Token);

        Assert.That((result.Schedules, result.Failing), Is.EqualTo((0, 0)));
    }

    [Test]
    public void Explore_CancelledDuringALongDfsSearch_ReturnsWithinAFractionOfASecond()
    {
        using var cancel = new CancellationTokenSource();
        var search = Task.Run(() => Explorer.Explore("deflate-vs-migrate", "legacy", "dfs", 98_450, 0, pctDepth: 3, cancel: cancel.Token));
        Thread.Sleep(300);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();

        Assert.That(search.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        Assert.That(search.Result.Schedules, Is.InRange(0, 98_449));
        Assert.That(search.Result.Exhausted, Is.False);
    }
}
