using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 4 (kernel-semantics §8.4). The vballoon thread deflates (leak_balloon → balloon_page_dequeue) on CPU 0
/// while compaction on CPU 1 isolates the same balloon pages (an LRU page first, so even the pre-patch scanner
/// holds lru_lock) and then puts them back, as when it gives up. Pre-d6d86c0 dequeue walks the list without
/// pages_lock, only trylocks a page and never asks whether it is still listed: it takes isolated pages off
/// compaction's private list (lost pages, list corruption, isolated_pages stuck). d6d86c0 skips pages whose
/// PG_private is clear, leaving only the next-cursor race of the unlocked walk (fixed in v4.5 by walking under
/// pages_lock). As operations: <c>cpu0=[deflate(pages=4)], cpu1=[isolate(start=lru, end=past the balloon, then="putback")]</c>.
/// </summary>
internal class DeflateVsIsolateScenario(ScenarioKit kit) : IScenario
{
    public const int BalloonSize = 4;
    public const int Deflate = 4;

    public void Prepare(RaceBuilder race)
    {
        int lru = kit.AnonPage();
        var balloon = kit.BalloonPages(BalloonSize);
        race.Ops(0, "vballoon: leak_balloon", RaceOp.Of("deflate", ("pages", Deflate)));
        race.Ops(1, "compaction", RaceOp.Of("isolate", ("start", lru), ("end", balloon[^1] + 1), ("then", Then)));
    }

    /// <summary>What compaction does with what it isolated: put it back (as when it gives up), or migrate it.</summary>
    protected virtual string Then => "putback";
}
