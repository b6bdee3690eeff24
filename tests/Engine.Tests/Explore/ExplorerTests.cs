using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>A textbook lost update: two CPUs read-modify-write a counter with a preemption point in between.</summary>
internal sealed class LostUpdateScenario(Scheduler scheduler, Sanitizer sanitizer) : IScenario
{
    private int _counter;

    public IReadOnlyList<SimTask> Prepare() =>
        [new SimTask(0, 0, "inc0", Increment), new SimTask(1, 1, "inc1", Increment)];

    public void Finish()
    {
        if (_counter != 2) sanitizer.Report(ReportKind.VmBug, -1, $"lost update: counter is {_counter}");
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
    private static readonly ScenarioSpec LostUpdate = new("lost-update", "test race", 16, 2, typeof(LostUpdateScenario));

    [Test]
    public void Explore_FindsTheLostUpdate_OnSomeButNotAllRandomSchedules()
    {
        var result = Explorer.Explore(new ExploreRequest(LostUpdate, "legacy", "random", seed: 7), 0, 64);
        Assert.That(result.Schedules, Is.EqualTo(64));
        Assert.That(result.Failing, Is.InRange(1, 63));
        Assert.That(result.FailingByKind["vm_bug"], Is.EqualTo(result.Failing));
        Assert.That(result.FirstFailure!.Reports[0].Message, Does.Contain("lost update"));
    }

    [Test]
    public void Replay_ReproducesTheFailingScheduleExactly()
    {
        var first = Explorer.Explore(new ExploreRequest(LostUpdate, "legacy", "random", seed: 7), 0, 64).FirstFailure!;
        var again = first.Replay();
        Assert.That(again.Choices, Is.EqualTo(first.Choices));
        Assert.That(again.Trace, Is.EqualTo(first.Trace));
        Assert.That(again.Reports.Select(r => r.ToString()), Is.EqualTo(first.Reports.Select(r => r.ToString())));
    }

    [Test]
    public void Explore_IsDeterministicPerSeed_AndSchedulesCanBeRunInChunks()
    {
        var request = new ExploreRequest(LostUpdate, "legacy", "random", seed: 11);
        var whole = Explorer.Explore(request, 0, 40);
        var a = Explorer.Explore(request, 0, 20);
        var b = Explorer.Explore(request, 20, 20);
        Assert.That(a.FailingIndices.Concat(b.FailingIndices), Is.EqualTo(whole.FailingIndices));
    }

    [Test]
    public void Explore_RejectsUnknownScenarioAndStrategy_NamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => Explorer.Explore("no-such-race", "legacy", "random", 10, 1))!;
        Assert.That(e.Message, Does.Contain("scenario"));
        var s = Assert.Throws<ArgumentException>(() => new ExploreRequest(LostUpdate, "legacy", "chaos", 1))!;
        Assert.That(s.Message, Does.Contain("strategy must be one of random, pct, roundrobin"));
    }
}
