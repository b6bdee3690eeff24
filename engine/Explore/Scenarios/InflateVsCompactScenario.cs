using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// The balloon inflating (fill_balloon) on CPU 0 while compaction on CPU 1 scans and migrates the pages it is
/// enqueueing. balloon_page_enqueue lists each page (isolatable) before fill_balloon tells the host, and
/// virtballoon_migratepage only trylocks balloon_lock, which fill_balloon holds around its whole loop: a balloon page
/// isolated meanwhile is retried with -EAGAIN and put back: no race finding in any design. Pre-d6d86c0 each balloon
/// page the scanner does migrate can never move again (defect 2, balloon_unmovable; the range starts with an LRU page,
/// so the scanner holds lru_lock). As operations:
/// <c>cpu0=[inflate(pages=4)], cpu1=[isolate(start=lru, end=past the pages the inflation will take, then="migrate")]</c>.
/// </summary>
internal sealed class InflateVsCompactScenario(ScenarioKit kit) : IScenario
{
    public const int BalloonSize = 2;
    public const int Inflate = 4;

    public void Prepare(RaceBuilder race)
    {
        int lru = kit.AnonPage();
        var balloon = kit.BalloonPages(BalloonSize);
        // Pages come off the free lists in ascending order here, so the inflation takes the ones right after.
        race.Ops(0, "vballoon: fill_balloon", RaceOp.Of("inflate", ("pages", Inflate)));
        race.Ops(1, "compaction", RaceOp.Of("isolate", ("start", lru), ("end", balloon[^1] + 1 + Inflate), ("then", "migrate")));
    }
}
