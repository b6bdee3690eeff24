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
    private static int Runs(ContinuationChoice choice, int runs, double continuationsPerPoint, double threadsPerPoint)
    {
        int onThreads = 0;
        for (int i = 0; i < runs; i++)
        {
            bool continued = choice.NextAsContinuations;
            if (!continued) onThreads++;
            choice.Ran(continued, (long)(100 * (continued ? continuationsPerPoint : threadsPerPoint)), 100);
        }
        return onThreads;
    }

    [Test]
    public void Threads_ChosenOnlyWhenClearlyFaster_ContinuationsBackWhenFasterAtAll()
    {
        var choice = new ContinuationChoice { WarmUpTicks = 0 };
        int warmUpAndTries = ContinuationChoice.WarmUpRuns + 2_000;

        // Threads at 0.9 of the continuations' time: tried, never chosen.
        int tried = Runs(choice, warmUpAndTries, 100, 90);
        Assert.That(tried, Is.InRange(1 + ContinuationChoice.ProbeRuns, 1 + 6 * ContinuationChoice.ProbeRuns));
        Assert.That(choice.NextAsContinuations, Is.True);

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
        var choice = new ContinuationChoice { WarmUpTicks = 1_000_000 };
        // 100 ticks a run: the time is up after 10,000 runs, far beyond the warm-up's runs.
        Assert.That(Runs(choice, 10_000, 1, 0.01), Is.Zero, "continuations while the warm-up time lasts");
        Assert.That(Runs(choice, 2 * ContinuationChoice.ProbeRuns, 1, 0.01), Is.Positive, "threads tried when it is over");

        var quick = new ContinuationChoice { WarmUpTicks = 0 };
        Assert.That(Runs(quick, ContinuationChoice.WarmUpRuns + 1, 1, 0.01), Is.Zero, "continuations for the warm-up's runs");
        Assert.That(Runs(quick, 2 * ContinuationChoice.ProbeRuns, 1, 0.01), Is.Positive);
    }
}
