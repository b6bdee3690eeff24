using BalloonScript.Engine.Explore;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// The four defects d6d86c0 fixed, each as a named scenario run through the real compaction, migration and
/// balloon code: present in legacy (v3.16), absent in redesign (v3.18, apart from the residual dequeue race)
/// and in fixed (v4.5), over many random schedules where the defect is a race.
/// </summary>
public class DefectScenarioTests
{
    private const int Schedules = 300;

    private static ExploreResult Explore(string scenario, string design, long seed = 1) =>
        Explorer.Explore(scenario, design, "random", Schedules, seed);

    private static string[] Kinds(ExploreResult r) => [.. r.FailingByKind.Keys];

    [Test]
    public void ScanVsMigrate_v316_BalloonPageMovableReadsAnAnonVmaAsAddressSpace_KasanOnSomeSchedules()
    {
        var r = Explore("scan-vs-migrate", "legacy");
        Assert.That(r.Failing, Is.Positive);
        Assert.That(Kinds(r), Is.EqualTo(new[] { "kasan" }));
        var first = r.FirstFailure!;
        Assert.That(first.Reports[0].Message, Does.Contain("anon_vma"));
        Assert.That(first.Reports[0].Trace, Does.Contain("isolate_migratepages_range"));
        Assert.That(first.Trace.Any(t => t.Point == "move_to_new_page: newpage->mapping set"), "the migration's window is in the interleaving");
    }

    [TestCase("redesign")]
    [TestCase("fixed")]
    public void ScanVsMigrate_v318_PageBalloonReadsOnlyStructPage_NoFindingOnAnySchedule(string design) =>
        Assert.That(Explore("scan-vs-migrate", design).Failing, Is.Zero);

    [Test]
    public void ScanVsMigrate_FailingScheduleReplaysBitForBit()
    {
        var first = Explore("scan-vs-migrate", "legacy").FirstFailure!;
        var again = first.Replay();
        Assert.That(again.Trace, Is.EqualTo(first.Trace));
        Assert.That(again.Reports.Select(x => x.ToString()), Is.EqualTo(first.Reports.Select(x => x.ToString())));
    }

    [Test]
    public void MigrateTwice_v316_MoveToNewPageClearsNewpageMapping_BalloonPageMovesOnceThenIsUnmovable()
    {
        var run = Explorer.Run("migrate-twice", "legacy", 1);
        Assert.That(run.Delta("balloon_migrate"), Is.EqualTo(1));
        Assert.That(run.Reports.Select(x => x.KindName).Distinct(), Is.EqualTo(new[] { "balloon_unmovable" }));
    }

    [TestCase("redesign")]
    [TestCase("fixed")]
    public void MigrateTwice_v318_BalloonIdentityInPageNotMapping_MovesEveryRound(string design)
    {
        var run = Explorer.Run("migrate-twice", design, 1);
        Assert.That(run.Delta("balloon_migrate"), Is.EqualTo(3));
        Assert.That(run.Reports, Is.Empty);
    }

    [Test]
    public void IsolateWithoutLruLock_v316_LockedAndBalloonPageIsolate_NothingIsolatedAndBlocksMarkedSkip()
    {
        var run = Explorer.Run("isolate-without-lru-lock", "legacy", 1);
        Assert.That(run.MetricsBefore[Array.IndexOf(ScheduleRun.MetricNames, "balloon_pages")], Is.Positive, "precondition: a balloon");
        Assert.That(run.Delta("compact_isolated"), Is.Zero);
        Assert.That(run.Delta("balloon_migrate"), Is.Zero);
        Assert.That(run.Delta("free_order9_blocks"), Is.Zero);
        Assert.That(run.Delta("skip_pageblocks"), Is.Positive);
        Assert.That(run.Reports, Is.Empty);
    }

    /// <summary>v3.18 isolates balloon pages whatever lru_lock is doing; v4.8's isolate_movable_page does too (the scanner drops it first).</summary>
    [TestCase("redesign")]
    [TestCase("fixed")]
    [TestCase("movable")]
    public void IsolateWithoutLruLock_v318_v48_NoLruLockDependency_BalloonPagesMigrateAndOrder9BlocksForm(string design)
    {
        var run = Explorer.Run("isolate-without-lru-lock", design, 1);
        var legacy = Explorer.Run("isolate-without-lru-lock", "legacy", 1);
        Assert.That(run.Delta("compact_isolated"), Is.Positive);
        Assert.That(run.Delta("balloon_migrate"), Is.Positive);
        Assert.That(run.Delta("free_order9_blocks"), Is.Positive);
        Assert.That(run.Delta("skip_pageblocks"), Is.LessThan(legacy.Delta("skip_pageblocks")));
        Assert.That(run.Reports, Is.Empty);
    }

    [Test]
    public void DeflateVsIsolate_v316_DequeueTakesIsolatedPages_LeakListCorruptionStuckIsolatedPages()
    {
        var kinds = Kinds(Explore("deflate-vs-isolate", "legacy"));
        Assert.That(kinds, Does.Contain("page_leak"));
        Assert.That(kinds, Does.Contain("list_corruption"));
        Assert.That(kinds, Does.Contain("isolated_pages"));
    }

    [Test]
    public void DeflateVsIsolate_v318_DequeueSkipsIsolatedPages_OnlyTheNextCursorRaceRemains()
    {
        var r = Explore("deflate-vs-isolate", "redesign");
        Assert.That(Kinds(r), Is.EqualTo(new[] { "list_corruption" }));
        Assert.That(r.FirstFailure!.Reports[0].Trace, Does.Contain("balloon_page_dequeue"));
    }

    [TestCase("deflate-vs-isolate")]
    [TestCase("deflate-vs-migrate")]
    public void Deflate_v45_WalkUnderPagesLock_NoFindingOnAnySchedule(string scenario)
    {
        Assert.That(Explore(scenario, "fixed").Failing, Is.Zero);
        Assert.That(Explorer.Explore(scenario, "fixed", "pct", Schedules, 2).Failing, Is.Zero);
    }

    [Test]
    public void DeflateVsMigrate_v316_DefectFourFindingsAlsoWhenCompactionMigrates()
    {
        var kinds = Kinds(Explore("deflate-vs-migrate", "legacy"));
        Assert.That(kinds, Does.Contain("page_leak"));
        Assert.That(kinds, Does.Contain("isolated_pages"));
        Assert.That(Kinds(Explore("deflate-vs-migrate", "redesign")), Does.Not.Contain("isolated_pages"));
    }

    [Test]
    public void DeflateVsMigrate_v318_PfnsReleasedAfterBalloonLockDropped_BadPage()
    {
        // v3.18 leak_balloon calls release_pages_by_pfn(vb->pfns) after dropping balloon_lock; a migration that
        // takes the lock in between rewrites vb->pfns (virtballoon_migratepage tells the host through the same
        // array), so the driver puts a page it no longer owns (fixed by f68b992, v4.5: release under the lock).
        // The newpage test after unlock (fixed in 2019) is also reachable here, but with the LRU-aware put_page
        // it only detours a page through an LRU list; the fixed design carries both fixes.
        var r = Explorer.Explore("deflate-vs-migrate", "redesign", "pct", Schedules, 1, pctDepth: 3);
        Assert.That(r.FailingByKind.Keys, Does.Contain("bad_page"));
        Assert.That(Explorer.Explore("deflate-vs-migrate", "fixed", "pct", Schedules, 1, pctDepth: 3).Failing, Is.Zero);
    }

    [Test]
    public void Pct_WithChangePointsInsideTheRun_FindsDefectFourInLegacy()
    {
        var r = Explorer.Explore("deflate-vs-isolate", "legacy", "pct", Schedules, 1, pctDepth: 4);
        Assert.That(r.FailingByKind.Keys, Does.Contain("page_leak"));
        Assert.That(r.FirstFailure!.Replay().Reports.Select(x => x.ToString()), Is.EqualTo(r.FirstFailure.Reports.Select(x => x.ToString())));
    }

    [TestCase("scan-vs-migrate")]
    [TestCase("deflate-vs-isolate")]
    [TestCase("deflate-vs-migrate")]
    public void RacingScenarios_FixedDesign_NoFindingInAnyScheduleWithUpToTwoPreemptions(string scenario)
    {
        var r = Explorer.Explore(scenario, "fixed", "dfs", 20_000, 0, pctDepth: 2);
        Assert.That(r.Exhausted, Is.True, "the bounded search space was covered");
        Assert.That(r.Failing, Is.Zero);
    }

    [Test]
    public void Dfs_ScanVsMigrate_v316_OnePreemptionIsEnoughForTheKasanRead()
    {
        var r = Explorer.Explore("scan-vs-migrate", "legacy", "dfs", 20_000, 0, pctDepth: 1);
        Assert.That(r.Exhausted, Is.True);
        Assert.That(r.FailingByKind.Keys, Is.EqualTo(new[] { "kasan" }));
    }

    [Test]
    public void Dfs_DeflateVsIsolate_TwoPreemptions_LegacyLeaksRedesignOnlyTheCursorRace()
    {
        var legacy = Explorer.Explore("deflate-vs-isolate", "legacy", "dfs", 20_000, 0, pctDepth: 2);
        var redesign = Explorer.Explore("deflate-vs-isolate", "redesign", "dfs", 20_000, 0, pctDepth: 2);
        Assert.That(legacy.FailingByKind.Keys, Is.SupersetOf(new[] { "page_leak", "isolated_pages", "list_corruption" }));
        Assert.That(redesign.FailingByKind.Keys, Is.EqualTo(new[] { "list_corruption" }));
    }

    // ---- v4.8 (movable) and v6.1: the balloon on the generic non-LRU movable page machinery ----

    /// <summary>
    /// The defects' races and the 2019 newpage race cannot happen on v4.8's machinery, which v6.1 keeps (6.1's
    /// __unmap_and_move puts newpage unconditionally; v4.8's __PageMovable test, modelled, cannot go wrong either).
    /// </summary>
    [Test]
    public void RacingScenarios_v48_And_v6_1_NoFindingInAnyScheduleWithUpToTwoPreemptions(
        [Values("movable", "v6.1")] string design,
        [Values("scan-vs-migrate", "deflate-vs-isolate", "deflate-vs-migrate", "newpage-after-unlock")] string scenario)
    {
        Assert.That(Explorer.Run(scenario, design, 1).Delta("compact_isolated"), Is.Positive, "precondition: the scanner isolates");
        var r = Explorer.Explore(scenario, design, "dfs", 100_000, 0, pctDepth: 2);
        Assert.That(r.Exhausted, Is.True, "every schedule with at most two preemptions was run");
        Assert.That(r.Failing, Is.Zero);
    }

    [TestCase("movable")]
    [TestCase("v6.1")]
    public void MigrateTwice_v48_And_v6_1_MoveToNewPageLeavesNewpageTagged_BalloonPageMovesEveryRound(string design)
    {
        var run = Explorer.Run("migrate-twice", design, 1);
        Assert.That(run.Delta("balloon_migrate"), Is.EqualTo(3));
        Assert.That(run.Reports, Is.Empty);
    }

    [Test]
    public void EveryScenario_v48_MovableDesign_NoFindingUnderAnyStrategy()
    {
        foreach (var scenario in Explorer.Scenarios)
            foreach (var strategy in ExploreRequest.Strategies.Where(s => s != "dfs"))
                Assert.That(Explorer.Explore(scenario, "movable", strategy, 100, 3).Failing, Is.Zero, $"{scenario} / {strategy}");
    }

    [Test]
    public void EveryScenario_FixedDesign_NoFindingUnderAnyStrategy()
    {
        foreach (var scenario in Explorer.Scenarios)
            foreach (var strategy in ExploreRequest.Strategies.Where(s => s != "dfs"))
                Assert.That(Explorer.Explore(scenario, "fixed", strategy, 100, 3).Failing, Is.Zero, $"{scenario} / {strategy}");
    }
}
