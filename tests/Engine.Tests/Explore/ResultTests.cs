using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>What an exploration keeps: every failing schedule (replayable from its record), how it failed, how many
/// preemptions it took, a minimised schedule per failure, and what a stopped search left undone.</summary>
public class ResultTests
{
    private static Race DeflateVsIsolate() => ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, 1);

    [Test]
    public void EveryFailureRecord_ReplaysToTheSameReports()
    {
        var race = DeflateVsIsolate();
        var r = Explorer.Explore(race, new ExploreRequest("random", 1), 0, 150);

        Assert.That(r.Failures, Has.Count.EqualTo(r.Failing).And.Count.GreaterThan(3));
        foreach (var f in r.Failures)
        {
            var again = race.Replay(f.Index, f.Choices);
            Assert.That(again.Signature, Is.EqualTo(f.Signature));
            Assert.That(again.Preemptions, Is.EqualTo(f.Preemptions));
            Assert.That(again.Reports.Select(x => x.KindName).Distinct(), Is.EqualTo(f.Kinds));
        }
    }

    /// <summary>
    /// A long race with few preemptions (two compactions of a 32 MiB legacy guest: about 33,000 decisions a schedule, each
    /// failing on defect 2) keeps each failure's decisions as a few runs, and gives them back exactly: a DFS that keeps
    /// every failing schedule of such a race used to keep one number per decision.
    /// </summary>
    [Test]
    public void FailureRecords_OfALongRace_KeepTheirDecisionsAsFewRuns_AndGiveThemBackExactly()
    {
        var sim = Simulation.Create(TestOptions.Classic(32, 2, 427, "legacy"));
        sim.WorkloadAnon(15);
        sim.BalloonInflate(2);
        sim.WorkloadFree(0.8, "random", 62);
        var race = RaceBuilder.FromOps(sim, [(0, [RaceOp.Of("compact")]), (1, [RaceOp.Of("compact")])]);

        var r = Explorer.Explore(race, new ExploreRequest("dfs", 0, pctDepth: 1), 0, 20);

        Assert.That(r.Failing, Is.EqualTo(20), "precondition: every schedule fails (balloon_unmovable)");
        foreach (var f in r.Failures.Take(3))
        {
            var run = race.Replay(f.Index, f.Choices);
            Assert.That(run.Signature, Is.EqualTo(f.Signature));
            Assert.That(f.Choices, Is.EqualTo(run.Choices));
            Assert.That(run.Choices, Has.Count.GreaterThan(10_000));
            Assert.That(f.ChoiceRuns, Has.Length.LessThan(20), "a DFS schedule of one preemption is a few runs");
        }
    }

    [Test]
    public void Signature_NamesEachReportKindWithItsInnermostFunctions()
    {
        var r = Explorer.Explore("deflate-vs-isolate", "redesign", "dfs", 20_000, 0, pctDepth: 2);
        Assert.That(r.Failures.Select(f => f.Signature).Distinct(), Does.Contain("list_corruption at balloon_page_dequeue <- leak_balloon"));
    }

    [Test]
    public void Preemptions_AreWhatTheDfsBoundCounts()
    {
        var r = Explorer.Explore("deflate-vs-isolate", "legacy", "dfs", 20_000, 0, pctDepth: 1);
        Assert.That(r.Exhausted);
        Assert.That(r.Failures.Select(f => f.Preemptions), Is.All.InRange(0, 1));
    }

    [Test]
    public void Minimize_KeepsTheSignatureWithFewerPreemptions_DownToWhatDfsNeeds()
    {
        var race = DeflateVsIsolate();
        var r = Explorer.Explore(race, new ExploreRequest("random", 1), 0, 150);
        var many = r.Failures.MaxBy(f => f.Preemptions)!;

        var minimal = Minimizer.Minimize(race.Replay(many.Index, many.Choices));

        Assert.That(many.Preemptions, Is.GreaterThan(5), "precondition: a random schedule switches a lot");
        Assert.That(minimal.Signature, Is.EqualTo(many.Signature));
        Assert.That(minimal.Preemptions, Is.LessThanOrEqualTo(Minimizer.MaxSearchBound));
        Assert.That(minimal.Replay().Signature, Is.EqualTo(many.Signature));
    }

    [Test]
    public void Minimize_AScheduleThatDidNotFail_IsAnArgumentException()
    {
        var race = DeflateVsIsolate();
        Assert.Throws<ArgumentException>(() => Minimizer.Minimize(race.Run(0, null)));
    }

    [Test]
    public void SchedulesLeft_DfsStoppedEarlySaysHowManyAtLeast_ExhaustedZero_OtherStrategiesNone()
    {
        var stopped = Explorer.Explore("deflate-vs-isolate", "fixed", "dfs", 50, 0, pctDepth: 2);
        var all = Explorer.Explore("deflate-vs-isolate", "fixed", "dfs", 20_000, 0, pctDepth: 2);

        Assert.That(stopped.Exhausted, Is.False);
        Assert.That(stopped.SchedulesLeft, Is.InRange(1, all.Schedules - 50));
        Assert.That(all.SchedulesLeft, Is.Zero);
        Assert.That(Explorer.Explore("deflate-vs-isolate", "fixed", "random", 5, 0).SchedulesLeft, Is.Null);
    }
}
