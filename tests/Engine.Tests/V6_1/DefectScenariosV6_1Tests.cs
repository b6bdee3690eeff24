using BalloonScript.Engine.Explore;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The four defects' scenarios under the v6.1 design (6.1 allocator and compaction, v4.8's migration and balloon on
/// non-LRU movable pages): clean — no sanitizer finding — under every strategy: random and PCT schedules, and the bounded DFS with
/// two preemptions run to exhaustion for the two races it is tractable for.
/// </summary>
public class DefectScenariosV6_1Tests
{
    public static IEnumerable<string> Scenarios => Explorer.Scenarios;

    [TestCaseSource(nameof(Scenarios))]
    public void Scenario_v6_1_NoFindingOnRandomOrPctSchedules(string scenario)
    {
        var random = Explorer.Explore(scenario, "v6.1", "random", 300, 1);
        var pct = Explorer.Explore(scenario, "v6.1", "pct", 100, 7, pctDepth: 3);
        Assert.That(random.Schedules, Is.EqualTo(300));
        Assert.That((random.Failing, pct.Failing), Is.EqualTo((0, 0)), string.Join(", ", random.FailingByKind.Concat(pct.FailingByKind)));
    }

    /// <summary>
    /// Also the two races of v4.8's balloon, which v6.1 has: a deflate against a migration of an isolated page, and
    /// the newpage test after unlock (6.1's __unmap_and_move puts newpage unconditionally; v4.8's __PageMovable test,
    /// modelled here, cannot go wrong either).
    /// </summary>
    [TestCase("scan-vs-migrate")]
    [TestCase("deflate-vs-isolate")]
    [TestCase("deflate-vs-migrate")]
    [TestCase("newpage-after-unlock")]
    public void Scenario_v6_1_DfsDepth2Exhaustive_NoFinding(string scenario)
    {
        Assert.That(Explorer.Run(scenario, "v6.1", 1).Delta("compact_isolated"), Is.Positive, "precondition: the scanner isolates");
        var r = Explorer.Explore(scenario, "v6.1", "dfs", 100_000, 0, pctDepth: 2);
        Assert.That(r.Exhausted, Is.True, "every schedule with at most two preemptions was run");
        Assert.That(r.Failing, Is.Zero);
    }

    [Test]
    public void MigrateTwice_v6_1_BalloonPageMovesEveryRound()
    {
        var run = Explorer.Run("migrate-twice", "v6.1", 1);
        Assert.That(run.Delta("balloon_migrate"), Is.EqualTo(3));
        Assert.That(run.Reports, Is.Empty);
    }

    [Test]
    public void IsolateWithoutLruLock_v6_1_BalloonPagesAreIsolatedAndMigrated()
    {
        var run = Explorer.Run("isolate-without-lru-lock", "v6.1", 1);
        Assert.That(run.Delta("balloon_migrate"), Is.Positive);
        Assert.That(run.Reports, Is.Empty);
    }
}
