using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 1 (kernel-semantics §8.1; Sasha Levin's KASAN report, Aug 2014). CPU 0 migrates an anon page X to a
/// fresh target N; CPU 1, a THP fault in direct compaction, runs the migrate scanner over the pages just
/// before N and N itself. Pre-d6d86c0 the scanner's lockless balloon_page_movable(N) reads N's flags,
/// mapcount and count (all "fresh page") and then, if move_to_new_page has meanwhile set N-&gt;mapping to X's
/// anon_vma, reads mapping-&gt;flags through it: a KASAN out-of-bounds read. Post-patch the test is
/// PageBalloon(N), a read of struct page only.
/// </summary>
internal sealed class ScanVsMigrateScenario(ScenarioKit kit) : IScenario
{
    private const int LruPagesBefore = 1;
    private int _from;

    public IReadOnlyList<SimTask> Prepare()
    {
        var anon = kit.NewPages(() => kit.Sim.WorkloadAnon(16 / 256.0), Mm.PageKind.Anon);
        int x = anon[0];
        _from = kit.NewList();
        kit.IsolateLru(x, _from);
        int n = kit.Target();
        int low = Math.Max(0, n - LruPagesBefore);
        return
        [
            new SimTask(0, 0, "migrate_pages(X)", () => MigrateX(n)),
            new SimTask(1, 1, "thp fault: compaction", () => kit.PutbackAndRelease(kit.Isolate(low, n + 1, MigrateMode.Async))),
        ];
    }

    public void Finish()
    {
        kit.FreeList(_from);
        kit.Sim.CheckInvariants();
    }

    private void MigrateX(int n) => kit.Migrate(_from, _ => n, MigrateMode.Sync);
}
