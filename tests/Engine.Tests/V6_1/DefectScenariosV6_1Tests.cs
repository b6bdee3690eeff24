using BalloonScript.Engine.Explore;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The four defects' scenarios under the v6.1 design (6.1 allocator and compaction, v4.8's migration and balloon on
/// non-LRU movable pages): clean — no sanitizer finding — on random and PCT schedules. The bounded DFS with two
/// preemptions, run to exhaustion, is DefectScenarioTests.RacingScenarios_v48_And_v6_1_*, shared with movable.
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

    [Test]
    public void IsolateWithoutLruLock_v6_1_BalloonPagesAreIsolatedAndMigrated()
    {
        var run = Explorer.Run("isolate-without-lru-lock", "v6.1", 1);
        Assert.That(run.Delta("balloon_migrate"), Is.Positive);
        Assert.That(run.Reports, Is.Empty);
    }
}
