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
        var race = RaceWithAPathWithoutTwin(design);
        AssertSameRuns(race, 24);
        Assert.That(race.Scheduler.NeededThreads, Is.Positive);
    }

    /// <summary>
    /// Under <see cref="ContinuationUse.Fastest"/> a race's runs go the way its runs took less host time a point: as
    /// continuations while they warm up, then, under a host clock that charges continuations less, still as
    /// continuations with threads tried now and then; when the charges swap, on threads from the next try on. A way's
    /// first run (its code compiling) is not counted.
    /// </summary>
    [Test]
    public void FastestWay_IsTheOneMeasuredFaster_AndFollowsTheHost()
    {
        var race = ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, seed: 1);
        var scheduler = race.Scheduler;
        Assert.That(scheduler.Continuations, Is.EqualTo(ContinuationUse.Fastest), "the default");
        // The run is timed by a look at the clock before and after it: the look after charges each point of the run.
        long now = 0, continuationRunsBefore = 0, continuationCost = 1, threadCost = 5;
        bool before = true;
        scheduler.Choice.Clock = () =>
        {
            if (before) continuationRunsBefore = scheduler.ContinuationRuns;
            else now += scheduler.Trace.Count * (scheduler.ContinuationRuns > continuationRunsBefore ? continuationCost : threadCost);
            before = !before;
            return now;
        };
        // The warm-up lasts longer in time than in runs: 100,000 ticks are some 1,700 runs of 58 points at 1 tick a point.
        scheduler.Choice.WarmUpTicks = 100_000;
        var continued = new List<bool>();
        long firstTry = -1;
        void Runs(int n)
        {
            for (int i = 0; i < n; i++)
            {
                long runs = scheduler.ContinuationRuns, then = now;
                race.Run(i, new RandomStrategy(i));
                continued.Add(scheduler.ContinuationRuns > runs);
                if (!continued[^1] && firstTry < 0) firstTry = then;
            }
        }

        Runs(ContinuationChoice.WarmUpRuns + 1000);
        Assert.That(continued.Take(ContinuationChoice.WarmUpRuns + 1), Has.All.True, "continuations while they warm up");
        Assert.That(firstTry, Is.GreaterThanOrEqualTo(scheduler.Choice.WarmUpTicks), "threads tried after the warm-up time");
        Assert.That(continued.Count(c => !c), Is.InRange(1 + ContinuationChoice.ProbeRuns, 1 + 5 * ContinuationChoice.ProbeRuns),
            "threads tried now and then (their first run uncounted), never chosen");
        Assert.That(continued[^1], Is.True);
        var tries = Enumerable.Range(0, continued.Count).Where(i => !continued[i]).ToList();
        int longestGap = tries.Zip(tries.Skip(1), (a, b) => b - a).Max();
        int sinceLastTry = continued.Count - tries[^1];

        (continuationCost, threadCost) = (threadCost, continuationCost);
        continued.Clear();
        Runs(2 * longestGap + 600);
        int switched = continued.IndexOf(false);
        Assert.That(switched + sinceLastTry, Is.InRange(1, 2 * longestGap + 1), "threads tried again after at most twice the last interval");
        var after = continued.Skip(switched).ToList();
        Assert.That(after.Count(c => !c), Is.GreaterThan(after.Count * 9 / 10), "threads from then on, continuations tried now and then");
        Assert.That(after[^1], Is.False);
    }

    [TestCase(1, "none")]
    [TestCase(2, "sleep-sets")]
    public void DfsSearch_ThroughAPathWithoutTwin_IsTheSearchOnThreads(int bound, string reduction)
    {
        // Every run as continuations is made again on threads.
        ExploreResult Search(ContinuationUse use, out Race race)
        {
            race = RaceWithAPathWithoutTwin("legacy");
            race.Scheduler.Continuations = use;
            return Explorer.Explore(race, new ExploreRequest("dfs", 0, bound, reduction, 1), 0, 100_000);
        }
        var continued = Search(ContinuationUse.Always, out var taken);
        var threaded = Search(ContinuationUse.Never, out _);
        Assert.That(taken.Scheduler.NeededThreads, Is.Positive);
        AssertSameSearch(continued, threaded);
    }

    /// <summary>
    /// deflate-vs-isolate's paths with leak_balloon's synchronous body given as its async one: its first switch cannot
    /// park, so a run as continuations that reaches it is made again on threads.
    /// </summary>
    private static Race RaceWithAPathWithoutTwin(string design)
    {
        var spec = ScenarioCatalog.Find("deflate-vs-isolate");
        var builder = new RaceBuilder(Simulation.Create(spec.Options(KernelDesign.Parse(design), 1)));
        var kit = builder.Kit;
        int lru = kit.AnonPage();
        var balloon = kit.BalloonPages(4);
        builder.Task(0, "leak_balloon, no twin", () => kit.LeakBalloonCalls(4), () =>
        {
            kit.LeakBalloonCalls(4);
            return default;
        });
        builder.Ops(1, "compaction", RaceOp.Of("isolate", ("start", lru), ("end", balloon[^1] + 1)));
        return builder.Build(() => throw new NotSupportedException("no twin races here"));
    }

    private static void AssertSameSearch(ExploreResult continued, ExploreResult threaded)
    {
        Assert.That(continued.Exhausted, Is.True);
        Assert.That(continued.Schedules, Is.EqualTo(threaded.Schedules));
        Assert.That(continued.FailingIndices, Is.EqualTo(threaded.FailingIndices));
        Assert.That(continued.FailingByKind, Is.EqualTo(threaded.FailingByKind));
        Assert.That((continued.PrunedRuns, continued.SkippedOptions), Is.EqualTo((threaded.PrunedRuns, threaded.SkippedOptions)));
    }

    [TestCase("deflate-vs-isolate", "legacy", 1, "none")]
    [TestCase("deflate-vs-migrate", "redesign", 2, "none")]
    [TestCase("deflate-vs-isolate", "legacy", 2, "sleep-sets")]
    [TestCase("newpage-after-unlock", "redesign", 3, "sleep-sets")]
    public void DfsSearch_AsContinuations_IsTheSearchOnThreads(string scenario, string design, int bound, string reduction)
    {
        ExploreResult Search(ContinuationUse use)
        {
            var race = ScenarioCatalog.Find(scenario).Prepare(KernelDesign.Parse(design), seed: 1);
            race.Scheduler.Continuations = use;
            var result = Explorer.Explore(race, new ExploreRequest("dfs", 0, bound, reduction, 1), 0, 100_000);
            Assert.That(race.Scheduler.ContinuationRuns, use == ContinuationUse.Always ? Is.EqualTo(result.Schedules + result.PrunedRuns) : Is.Zero);
            return result;
        }
        var continued = Search(ContinuationUse.Always);
        var threaded = Search(ContinuationUse.Never);
        if (reduction != "none") Assert.That(continued.PrunedRuns, Is.Positive, "the reduction cut runs short");
        AssertSameSearch(continued, threaded);
    }
}
