using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 1 (kernel-semantics §8.1; Sasha Levin's KASAN report, Aug 2014). CPU 0 migrates an anon page X to a
/// fresh target N; CPU 1, a THP fault in direct compaction, runs the migrate scanner over the pages just
/// before N and N itself. Pre-d6d86c0 the scanner's lockless balloon_page_movable(N) reads N's flags,
/// mapcount and count (all "fresh page") and then, if move_to_new_page has meanwhile set N-&gt;mapping to X's
/// anon_vma, reads mapping-&gt;flags through it: a KASAN out-of-bounds read. Post-patch the test is
/// PageBalloon(N), a read of struct page only. As operations: <c>cpu0=[migrate(pfn=X)], cpu1=[isolate(start=N-1,
/// end=N+1, mode="async")]</c>, N being the target the migration took.
/// </summary>
internal sealed class ScanVsMigrateScenario(ScenarioKit kit) : IScenario
{
    private const int LruPagesBefore = 1;

    public void Prepare(RaceBuilder race)
    {
        var anon = kit.NewPages(() => kit.Sim.WorkloadAnon(16 / 256.0), Mm.PageKind.Anon);
        var migrate = race.Bind("cpu0[0]", RaceOp.Of("migrate", ("pfn", anon[0])));
        int n = migrate.Target;
        race.Ops(0, "migrate_pages(X)", [migrate]);
        race.Ops(1, "thp fault: compaction",
            RaceOp.Of("isolate", ("start", Math.Max(0, n - LruPagesBefore)), ("end", n + 1), ("mode", "async")));
    }
}
