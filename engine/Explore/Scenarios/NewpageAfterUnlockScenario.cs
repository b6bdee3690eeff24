using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// The 2019 newpage race (kernel-semantics §5.6): compaction on CPU 1 migrates the balloon's one page P to N; as soon
/// as balloon_page_migrate has unlocked N (now at the head of the balloon list), leak_balloon on CPU 0 may dequeue it,
/// clearing PageBalloon, before v3.18's unmap_and_move tests <c>__is_movable_balloon_page(newpage)</c>. The test then
/// fails and N goes to putback_lru_page while the driver owns it and releases it: a page freed from an LRU list
/// (bad_page). The 2019 stable fix ("don't rely on __PageMovable() of newpage after unlocking it", the fixed design)
/// decides from what it saved before migrating. Pre-d6d86c0 the branch never fires (defect 2). As operations:
/// <c>cpu0=[deflate(pages=1)], cpu1=[isolate(start=lru, end=P+1, then="migrate")]</c>.
/// </summary>
internal sealed class NewpageAfterUnlockScenario(ScenarioKit kit) : IScenario
{
    public void Prepare(RaceBuilder race)
    {
        int lru = kit.AnonPage();
        int page = kit.BalloonPages(1).Single();
        race.Ops(0, "vballoon: leak_balloon", RaceOp.Of("deflate", ("pages", 1)));
        race.Ops(1, "compaction", RaceOp.Of("isolate", ("start", lru), ("end", page + 1), ("then", "migrate")));
    }
}
