using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// CPU 0 serves a fault for a process (<c>current</c> is that process while it runs, with a preemption point inside);
/// CPU 1's path looks at <c>current</c> meanwhile. The run reports if CPU 1 saw anything but its own (no process).
/// </summary>
internal sealed class CurrentDuringAFaultScenario(Scheduler scheduler, Sanitizer sanitizer, ProcessTable processes) : IScenario
{
    public void Prepare(RaceBuilder race)
    {
        var faulting = processes.Spawn("faulting", 77, 1);
        Process? seen = null;
        race.Task(0, "fault", () =>
        {
            processes.Current = faulting;
            try { scheduler.Preempt("inside the fault"); }
            finally { processes.Current = null; }
        });
        race.Task(1, "other", () => seen = processes.Current);
        race.Finish(() =>
        {
            if (seen is not null) sanitizer.Report(ReportKind.VmBug, -1, $"CPU 1 saw {seen.Comm} as current");
        });
    }
}

public class CurrentProcessTests
{
    /// <summary><c>current</c> is per task (v3.16 <c>get_current()</c>, per CPU): another CPU's fault is not this path's.</summary>
    [Test]
    public void Current_IsThePathsOwn_AFaultOnAnotherCpuIsNotSeen()
    {
        var result = Explorer.Explore(new ScenarioSpec("current", "test race", 16, 2, typeof(CurrentDuringAFaultScenario))
            .Prepare(KernelDesign.Legacy, 0), new ExploreRequest("dfs", 0, 2, "none"), 0, 1000);
        Assert.That(result.Exhausted && result.Schedules > 1, "every interleaving, CPU 1 inside CPU 0's fault among them");
        Assert.That(result.Failing, Is.Zero);
    }
}
