using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// An exploration on several host threads is the one on one thread: the bounded DFS (<see cref="ParallelDfs"/>) gives the
/// same schedules, failures under the same indices, the same first failure, exhaustion and schedules left wherever it
/// stops; independent schedules (<see cref="ParallelSchedules"/>, on host CPUs side by side or spread) the same failures
/// and first failure for any range.
/// </summary>
public class HostThreadsTests
{
    private static ExploreResult Dfs(string scenario, string design, int bound, int count, int threads, string reduction = "none") =>
        Explorer.Explore(scenario, design, "dfs", count, 0, pctDepth: bound, threads: threads, reduction: reduction);

    private static void AssertSame(ExploreResult serial, ExploreResult parallel)
    {
        Assert.That(parallel.Schedules, Is.EqualTo(serial.Schedules));
        Assert.That(parallel.Exhausted, Is.EqualTo(serial.Exhausted));
        Assert.That(parallel.SchedulesLeft, Is.EqualTo(serial.SchedulesLeft));
        Assert.That(parallel.FailingByKind, Is.EqualTo(serial.FailingByKind));
        Assert.That(parallel.Failures.Select(f => (f.Index, string.Join(",", f.Choices), f.Preemptions, f.Signature)),
            Is.EqualTo(serial.Failures.Select(f => (f.Index, string.Join(",", f.Choices), f.Preemptions, f.Signature))));
        Assert.That(parallel.FirstFailure?.Index, Is.EqualTo(serial.FirstFailure?.Index));
        Assert.That(parallel.FirstFailure?.Trace, Is.EqualTo(serial.FirstFailure?.Trace));
        Assert.That(parallel.FirstFailure?.Reports.Select(r => r.ToString()), Is.EqualTo(serial.FirstFailure?.Reports.Select(r => r.ToString())));
        Assert.That((parallel.Reduction, parallel.PrunedRuns, parallel.SkippedOptions),
            Is.EqualTo((serial.Reduction, serial.PrunedRuns, serial.SkippedOptions)));
    }

    [TestCase("deflate-vs-isolate", "legacy", 2, "none")]
    [TestCase("deflate-vs-migrate", "legacy", 2, "none")]
    [TestCase("newpage-after-unlock", "redesign", 3, "none")]
    [TestCase("deflate-vs-isolate", "legacy", 3, "sleep-sets")]
    [TestCase("newpage-after-unlock", "redesign", 3, "sleep-sets")]
    public void Exhaustive_TwoThreads_AreTheSerialSearch(string scenario, string design, int bound, string reduction)
    {
        var serial = Dfs(scenario, design, bound, 1_000_000, threads: 1, reduction);
        Assume.That(CpuAffinity.Allowed(), Has.Length.GreaterThan(1), "needs two host CPUs");
        var parallel = Dfs(scenario, design, bound, 1_000_000, threads: 2, reduction);
        Assert.That(serial.Exhausted && serial.Failing > 0, "the searches compared cover their bound and find something");
        if (reduction != "none") Assert.That(serial.PrunedRuns, Is.Positive, "the reduced search cut runs short");
        AssertSame(serial, parallel);
    }

    [TestCase(1, "none")]
    [TestCase(777, "none")]
    [TestCase(2_000, "none")]
    [TestCase(1, "sleep-sets")]
    [TestCase(777, "sleep-sets")]
    [TestCase(2_000, "sleep-sets")]
    public void StoppedAtItsMaximum_TwoThreads_StopWhereTheSerialSearchStops_SameSchedulesLeft(int count, string reduction)
    {
        var serial = Dfs("deflate-vs-migrate", "legacy", 2, count, threads: 1, reduction);
        Assume.That(CpuAffinity.Allowed(), Has.Length.GreaterThan(1), "needs two host CPUs");
        var parallel = Dfs("deflate-vs-migrate", "legacy", 2, count, threads: 2, reduction);
        Assert.That(serial.Exhausted, Is.False);
        Assert.That(serial.SchedulesLeft, Is.GreaterThan(0));
        AssertSame(serial, parallel);
    }

    [Test]
    public void Units_ShareTheirDecisionsUpToTheFirstPreemption_AndPartitionTheSearchInOrder()
    {
        // One thread alone with units claims every unit: it is the serial search, and each unit starts where the
        // decisions up to the last run's first preemption changed.
        var race = ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, 0);
        var plain = new DfsStrategy(2);
        var split = new DfsStrategy(2, null, new DfsUnits());
        var prefixes = new List<int[]>();
        do
        {
            var a = race.Run(0, plain);
            var b = race.Run(0, split);
            Assert.That(b.Choices, Is.EqualTo(a.Choices));
            Assert.That(split.Skipping, Is.False);
            if (split.Unit == prefixes.Count) prefixes.Add(b.Choices.Take(split.UnitDecisions).ToArray());
            Assert.That(b.Choices.Take(prefixes[split.Unit].Length), Is.EqualTo(prefixes[split.Unit]), "a unit's schedules share its prefix");
            Assert.That(split.Advance(), Is.EqualTo(plain.Advance()));
        }
        while (!plain.Exhausted);
        Assert.That(prefixes.Select(p => string.Join(",", p)).Distinct().Count(), Is.EqualTo(prefixes.Count), "units are distinct");
        Assert.That(prefixes, Has.Count.GreaterThan(10));
    }

    /// <summary>On two host CPUs random runs spread (each schedule's two simulated CPUs on a host CPU each), pct side by side.</summary>
    [TestCase("random", 0, 1_000)]
    [TestCase("random", 70, 333)]
    [TestCase("pct", 5, 400)]
    public void IndependentSchedules_TwoHostCpus_AreTheOneCpuExploration(string strategy, int start, int count)
    {
        var race = ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, 3);
        var serial = Explorer.Explore(race, new ExploreRequest(strategy, 3, threads: 1), start, count);
        Assume.That(CpuAffinity.Allowed(), Has.Length.GreaterThan(1), "needs two host CPUs");
        var parallel = Explorer.Explore(race, new ExploreRequest(strategy, 3, threads: 2), start, count);
        Assert.That(serial.Failing, Is.InRange(1, count - 1), "some schedules fail, not all: the lists compared carry information");
        Assert.That(serial.FirstFailure!.Index, Is.GreaterThan(start), "the first failure is not the range's first schedule");
        AssertSame(serial, parallel);
    }

    [Test]
    public void Groups_SpreadGivesEachSearchOneCpuPerTask_LeftoverCpusSearchAlone_ElseOneSearchPerCpu()
    {
        Assert.That(HostThreads.Groups([0, 1, 2, 3], tasks: 2, spread: true), Is.EqualTo(new[] { new[] { 0, 1 }, [2, 3] }));
        Assert.That(HostThreads.Groups([4, 5, 6], tasks: 2, spread: true), Is.EqualTo(new[] { new[] { 4, 5 }, [6] }));
        Assert.That(HostThreads.Groups([0, 1], tasks: 3, spread: true), Is.EqualTo(new[] { new[] { 0 }, [1] }), "too few CPUs to spread");
        Assert.That(HostThreads.Groups([0, 1], tasks: 2, spread: false), Is.EqualTo(new[] { new[] { 0 }, [1] }));
        Assert.That(HostThreads.Groups([3], tasks: 2, spread: true), Is.EqualTo(new[] { new[] { 3 } }), "one CPU: one search on it");
        Assert.That(HostThreads.Groups([], tasks: 2, spread: true), Is.Empty);
    }

    [Test]
    public void HostLoad_ReadsTheMachinesBusyTimeAndItsOwnFromProc()
    {
        Assert.That(HostLoad.MachineBusy("cpu  799175 35879 112251 387849 1273 5 2324 2146 0 0"), Is.EqualTo(799175 + 35879 + 112251 + 5 + 2324));
        Assert.That(HostLoad.OwnBusy("14290 (a (b) c) R 14287 14287 1074 0 -1 4194304 127 0 0 0 31 7 0 0 20 0 1"), Is.EqualTo(38));
        Assert.Throws<FormatException>(() => HostLoad.MachineBusy("intr 1 2 3"));
        if (OperatingSystem.IsLinux())
            Assert.That(HostLoad.OwnBusy(File.ReadAllText("/proc/self/stat")), Is.GreaterThan(0), "this process has run");
    }

    [Test]
    public void Threads_OutOfRange_IsAnArgumentExceptionNamingIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ExploreRequest("dfs", 0, 2, "none", -1))!;
        Assert.That(e.ParamName, Is.EqualTo("threads"));
        Assert.That(e.Message, Does.Contain("1024"));
    }
}
