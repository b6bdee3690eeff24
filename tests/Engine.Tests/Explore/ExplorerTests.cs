using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// A textbook lost update: two CPUs read-modify-write a counter with a preemption point in between. The counter lives
/// outside the simulation, so no snapshot restores it: the scenario resets it after each schedule.
/// </summary>
internal sealed class LostUpdateScenario(Scheduler scheduler, Sanitizer sanitizer) : IScenario
{
    private int _counter;

    public void Prepare(RaceBuilder race)
    {
        race.Task(0, "inc0", Increment);
        race.Task(1, "inc1", Increment);
        race.Finish(() =>
        {
            if (_counter != 2) sanitizer.Report(ReportKind.VmBug, -1, $"lost update: counter is {_counter}");
            _counter = 0;
        });
    }

    private void Increment()
    {
        int seen = _counter;
        scheduler.Preempt("between read and write");
        _counter = seen + 1;
    }
}

public class ExplorerTests
{
    internal static readonly ScenarioSpec LostUpdate = new("lost-update", "test race", 16, 2, typeof(LostUpdateScenario));

    internal static ExploreResult Explore(string strategy, long seed, int start, int count, int depth = 3) =>
        Explorer.Explore(LostUpdate.Prepare(KernelDesign.Legacy, seed), new ExploreRequest(strategy, seed, depth), start, count);

    [Test]
    public void Explore_FindsTheLostUpdate_OnSomeButNotAllRandomSchedules()
    {
        var result = Explore("random", 7, 0, 64);
        Assert.That(result.Schedules, Is.EqualTo(64));
        Assert.That(result.Failing, Is.InRange(1, 63));
        Assert.That(result.FailingByKind["vm_bug"], Is.EqualTo(result.Failing));
        Assert.That(result.FirstFailure!.Reports[0].Message, Does.Contain("lost update"));
    }

    [Test]
    public void Replay_ReproducesTheFailingScheduleExactly()
    {
        var first = Explore("random", 7, 0, 64).FirstFailure!;
        var again = first.Replay();
        Assert.That(again.Choices, Is.EqualTo(first.Choices));
        Assert.That(again.Trace, Is.EqualTo(first.Trace));
        Assert.That(again.Reports.Select(r => r.ToString()), Is.EqualTo(first.Reports.Select(r => r.ToString())));
    }

    [Test]
    public void Explore_IsDeterministicPerSeed_AndSchedulesCanBeRunInChunks()
    {
        var whole = Explore("random", 11, 0, 40);
        var a = Explore("random", 11, 0, 20);
        var b = Explore("random", 11, 20, 20);
        Assert.That(whole.FailingIndices, Is.Not.Empty.And.Count.LessThan(40), "some schedules fail, not all: the lists compared carry information");
        Assert.That(Explore("random", 11, 0, 40).FailingIndices, Is.EqualTo(whole.FailingIndices), "same seed, same schedules");
        Assert.That(Explore("random", 12, 0, 40).FailingIndices, Is.Not.EqualTo(whole.FailingIndices), "the seed picks the schedules");
        Assert.That(a.FailingIndices.Concat(b.FailingIndices), Is.EqualTo(whole.FailingIndices));
    }

    [Test]
    public void Explore_RejectsUnknownScenarioAndStrategy_NamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => Explorer.Explore("no-such-race", "legacy", "random", 10, 1))!;
        Assert.That(e.Message, Does.Contain("scenario"));
        var s = Assert.Throws<ArgumentException>(() => new ExploreRequest("chaos", 1))!;
        Assert.That(s.Message, Does.Contain("strategy must be one of random, pct, roundrobin"));
    }
}

public class DfsExplorerTests
{
    private static ExploreResult Dfs(int bound, int max = 10_000) => ExplorerTests.Explore("dfs", 0, 0, max, bound);

    [Test]
    public void Dfs_Bound0_RunsEachStartOrderOnce_WithoutPreemption_NoLostUpdate()
    {
        var r = Dfs(0);
        Assert.That(r.Exhausted, Is.True);
        Assert.That(r.Schedules, Is.EqualTo(2), "which task starts is a free choice; then each runs to the end");
        Assert.That(r.Failing, Is.Zero);
    }

    [Test]
    public void Dfs_Bound1_EnumeratesEverySchedule_AndFindsTheLostUpdate()
    {
        var r = Dfs(1);
        Assert.That(r.Exhausted, Is.True);
        Assert.That(r.Failing, Is.Positive);
        Assert.That(r.Schedules, Is.GreaterThan(Dfs(0).Schedules));
        var again = r.FirstFailure!.Replay();
        Assert.That(again.Reports.Select(x => x.ToString()), Is.EqualTo(r.FirstFailure.Reports.Select(x => x.ToString())));
    }

    [Test]
    public void Dfs_SchedulesAreDistinct_AndTheSearchIsDeterministic()
    {
        var race = ExplorerTests.LostUpdate.Prepare(KernelDesign.Legacy, 0);
        var runs = new List<string>();
        var dfs = new DfsStrategy(2);
        do runs.Add(string.Join(",", race.Run(runs.Count, dfs).Choices));
        while (dfs.Advance());
        Assert.That(runs, Is.Unique);
        Assert.That(Dfs(2).Schedules, Is.EqualTo(runs.Count));
        Assert.That(Dfs(2).FailingIndices, Is.EqualTo(Dfs(2).FailingIndices));
    }

    [Test]
    public void Dfs_MaxSchedulesStopsEarly_NotExhausted()
    {
        var r = Dfs(2, max: 3);
        Assert.That(r.Schedules, Is.EqualTo(3));
        Assert.That(r.Exhausted, Is.False);
    }
}
