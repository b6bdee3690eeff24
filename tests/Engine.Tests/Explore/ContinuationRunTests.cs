using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// Switching runs as continuations on one thread (the kernel paths' generated async twins) against the same runs on OS
/// threads: every preset in every design, decision for decision, step for step, with the same findings and end state;
/// a path without a twin taken up again on threads; a whole DFS search either way.
/// </summary>
public class ContinuationRunTests
{
    private static IEnumerable<TestCaseData> PresetsByDesign() =>
        from scenario in Explorer.Presets from design in KernelDesign.Names select new TestCaseData(scenario, design);

    /// <summary>Random and PCT schedules <c>0..count-1</c> of <paramref name="race"/>, as continuations and on threads, are the same runs.</summary>
    private static void AssertSameRuns(Race race, int count)
    {
        long decisions = race.Run(-1, new RoundRobinStrategy()).Choices.Count;
        for (int i = 0; i < count; i++)
        {
            IScheduleStrategy Strategy() => i % 2 == 0 ? new RandomStrategy(1000 + i) : new PctStrategy(1000 + i, 3, decisions);
            race.Scheduler.Continuations = ContinuationUse.Always;
            var continued = race.Run(i, Strategy());
            race.Scheduler.Continuations = ContinuationUse.Never;
            var threaded = race.Run(i, Strategy());
            Assert.That(continued.Choices, Is.EqualTo(threaded.Choices), $"schedule {i}: decisions");
            Assert.That(continued.Trace, Is.EqualTo(threaded.Trace), $"schedule {i}: trace");
            Assert.That(continued.Signature, Is.EqualTo(threaded.Signature), $"schedule {i}: findings");
            Assert.That(continued.Deadlock, Is.EqualTo(threaded.Deadlock), $"schedule {i}: deadlock");
            Assert.That(continued.MetricsAfter, Is.EqualTo(threaded.MetricsAfter), $"schedule {i}: end state");
        }
    }

    [TestCaseSource(nameof(PresetsByDesign))]
    public void PresetSchedules_AsContinuations_AreTheSchedulesOnThreads_AndNeedNoThread(string scenario, string design)
    {
        var race = ScenarioCatalog.Find(scenario).Prepare(KernelDesign.Parse(design), seed: 1);
        AssertSameRuns(race, 24);
        // Every path the presets run has its twin: none was taken up again on threads. (One-path presets never switch.)
        Assert.That(race.Scheduler.NeededThreads, Is.Zero);
        Assert.That(race.Scheduler.ContinuationRuns, race.Tasks.Count > 1 ? Is.EqualTo(24 + 1) : Is.Zero);
    }

    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void PathWithoutTwin_IsTakenUpAgainOnThreads_FromTheDecisionItReached(string design)
    {
        var spec = ScenarioCatalog.Find("deflate-vs-isolate");
        var builder = new RaceBuilder(Simulation.Create(spec.Options(KernelDesign.Parse(design), 1)));
        var kit = builder.Kit;
        int lru = kit.AnonPage();
        var balloon = kit.BalloonPages(4);
        // leak_balloon's synchronous body given as its async one: its first switch cannot park.
        builder.Task(0, "leak_balloon, no twin", () => kit.LeakBalloonCalls(4), () =>
        {
            kit.LeakBalloonCalls(4);
            return default;
        });
        builder.Ops(1, "compaction", RaceOp.Of("isolate", ("start", lru), ("end", balloon[^1] + 1)));
        var race = builder.Build(() => throw new NotSupportedException("no twin races here"));

        AssertSameRuns(race, 24);
        Assert.That(race.Scheduler.NeededThreads, Is.Positive);
    }

    /// <summary>
    /// Random runs go as continuations while the race's runs switch often: a short deflate against a compaction of the
    /// whole 16 MiB zone runs alone for thousands of points after the deflate ends, and after its first run goes on threads;
    /// deflate-vs-isolate switches at about half of its points and stays as continuations.
    /// </summary>
    [Test]
    public void RandomRuns_ThatSwitchSeldom_GoOnThreads_ThoseThatSwitchOften_AsContinuations()
    {
        var sim = Simulation.Create(new SimulationOptions { MemoryMib = 16, Design = KernelDesign.Legacy, Seed = 1, Cpus = 2 });
        sim.BalloonInflate(4 / 256.0);
        var seldom = RaceBuilder.FromOps(sim, [(0, [RaceOp.Of("deflate", ("pages", 4))]), (1, [RaceOp.Of("compact", ("mode", "async"))])]);
        var often = ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, seed: 1);

        for (int i = 0; i < 5; i++)
        {
            seldom.Run(i, new RandomStrategy(i));
            often.Run(i, new RandomStrategy(i));
        }

        Assert.That(seldom.Scheduler.ContinuationRuns, Is.EqualTo(1), "only the first, before any run was seen");
        Assert.That(often.Scheduler.ContinuationRuns, Is.EqualTo(5));
    }

    [TestCase("deflate-vs-isolate", "legacy", 1)]
    [TestCase("deflate-vs-migrate", "redesign", 2)]
    public void DfsSearch_AsContinuations_IsTheSearchOnThreads(string scenario, string design, int bound)
    {
        ExploreResult Search(ContinuationUse use)
        {
            var race = ScenarioCatalog.Find(scenario).Prepare(KernelDesign.Parse(design), seed: 1);
            race.Scheduler.Continuations = use;
            var result = Explorer.Explore(race, new ExploreRequest("dfs", 0, bound, "none", 1), 0, 100_000);
            Assert.That(race.Scheduler.ContinuationRuns, use == ContinuationUse.Always ? Is.EqualTo(result.Schedules) : Is.Zero);
            return result;
        }
        var continued = Search(ContinuationUse.Always);
        var threaded = Search(ContinuationUse.Never);
        Assert.That(continued.Exhausted, Is.True);
        Assert.That(continued.Schedules, Is.EqualTo(threaded.Schedules));
        Assert.That(continued.FailingIndices, Is.EqualTo(threaded.FailingIndices));
        Assert.That(continued.FailingByKind, Is.EqualTo(threaded.FailingByKind));
    }
}
