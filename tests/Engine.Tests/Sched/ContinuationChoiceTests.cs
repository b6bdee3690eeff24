using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// <see cref="ContinuationChoice"/> on runs of given costs: threads are chosen only when clearly faster
/// (<see cref="ContinuationChoice.ThreadsMargin"/>), continuations back as soon as they are faster at all.
/// </summary>
public class ContinuationChoiceTests
{
    /// <summary>Make <paramref name="runs"/> runs of 100 points at the given costs a point; how many went on threads.</summary>
    private static int Runs(ContinuationChoice choice, int runs, double continuationsPerPoint, double threadsPerPoint,
        bool switchesOften = true)
    {
        int onThreads = 0;
        for (int i = 0; i < runs; i++)
        {
            bool continued = choice.Next(switchesOften);
            if (!continued) onThreads++;
            choice.Ran(continued, (long)(100 * (continued ? continuationsPerPoint : threadsPerPoint)), 100);
        }
        return onThreads;
    }

    [Test]
    public void Threads_ChosenOnlyWhenClearlyFaster_ContinuationsBackWhenFasterAtAll()
    {
        var choice = new ContinuationChoice { WarmUpTicks = 0, HostBusy = () => false };
        int warmUpAndTries = ContinuationChoice.WarmUpRuns + 2_000;

        // Threads at 0.9 of the continuations' time: tried, never chosen.
        int tried = Runs(choice, warmUpAndTries, 100, 90);
        Assert.That(tried, Is.InRange(1 + ContinuationChoice.ProbeRuns, 1 + 6 * ContinuationChoice.ProbeRuns));
        Assert.That(choice.Next(switchesOften: true), Is.True);

        // Threads at 0.7: chosen at the next try, and kept.
        int onThreads = Runs(choice, 2_000, 100, 70);
        Assert.That(onThreads, Is.GreaterThan(1_000));
        Assert.That(Runs(choice, 1, 100, 70), Is.EqualTo(1), "on threads at the end");

        // Continuations at 0.95 of the threads' time: chosen back at their next try.
        int stillOnThreads = Runs(choice, 2_000, 66.5, 70);
        Assert.That(stillOnThreads, Is.LessThan(1_000));
        Assert.That(Runs(choice, 1, 66.5, 70), Is.Zero, "as continuations at the end");
    }

    [Test]
    public void ContinuationsWarmUp_ForTheirRunsAndTheirTime_BeforeThreadsAreTried()
    {
        var choice = new ContinuationChoice { WarmUpTicks = 1_000_000, HostBusy = () => false };
        // 100 ticks a run: the time is up after 10,000 runs, far beyond the warm-up's runs.
        Assert.That(Runs(choice, 10_000, 1, 0.01), Is.Zero, "continuations while the warm-up time lasts");
        Assert.That(Runs(choice, 2 * ContinuationChoice.ProbeRuns, 1, 0.01), Is.Positive, "threads tried when it is over");

        var quick = new ContinuationChoice { WarmUpTicks = 0, HostBusy = () => false };
        Assert.That(Runs(quick, ContinuationChoice.WarmUpRuns + 1, 1, 0.01), Is.Zero, "continuations for the warm-up's runs");
        Assert.That(Runs(quick, 2 * ContinuationChoice.ProbeRuns, 1, 0.01), Is.Positive);
    }

    /// <summary>
    /// PCT and DFS (strategies that switch at a few decisions) start on threads while the host is otherwise idle, and as
    /// continuations while it is busy; runs on threads go as continuations as soon as the host turns busy while they warm
    /// up, and warm up in their turn.
    /// </summary>
    [Test]
    public void FewSwitches_StartOnThreadsOnAQuietHost_AsContinuationsOnABusyOne()
    {
        bool busy = false;
        var choice = new ContinuationChoice { WarmUpTicks = 1_000_000, HostBusy = () => busy };
        Assert.That(Runs(choice, 100, 1, 1, switchesOften: false), Is.EqualTo(100), "threads first on a quiet host");
        busy = true;
        Assert.That(Runs(choice, 100, 1, 1, switchesOften: false), Is.Zero, "continuations once it is busy");
        busy = false;
        Assert.That(Runs(choice, ContinuationChoice.WarmUpRuns, 1, 1, switchesOften: false), Is.Zero, "their warm-up, whatever the host");

        var busyFromTheStart = new ContinuationChoice { HostBusy = () => true };
        Assert.That(Runs(busyFromTheStart, 100, 1, 1, switchesOften: false), Is.Zero);
        var often = new ContinuationChoice { HostBusy = () => false };
        Assert.That(Runs(often, 100, 1, 1, switchesOften: true), Is.Zero, "random and roundrobin start as continuations");
    }

    /// <summary>A race whose paths lack twins goes on threads after its first run needed them, even on a busy host, until
    /// continuations are tried again after the longest interval.</summary>
    [Test]
    public void NeedingThreads_KeepsARaceOnThreads_EvenOnABusyHost()
    {
        var choice = new ContinuationChoice { HostBusy = () => true };
        Assert.That(choice.Next(switchesOften: false), Is.True, "continuations first on a busy host");
        choice.NeededThreads();
        choice.Ran(false, 100, 100); // the run made again on threads
        Assert.That(Runs(choice, ContinuationChoice.LongestProbeInterval, 1, 1, switchesOften: false),
            Is.EqualTo(ContinuationChoice.LongestProbeInterval));
        Assert.That(Runs(choice, ContinuationChoice.ProbeRuns, 1, 1, switchesOften: false), Is.LessThan(ContinuationChoice.ProbeRuns),
            "continuations tried again after the longest interval");
    }
}
