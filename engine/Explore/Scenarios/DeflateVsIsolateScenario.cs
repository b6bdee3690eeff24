using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 4 (kernel-semantics §8.4). The vballoon thread deflates (leak_balloon → balloon_page_dequeue) on CPU 0
/// while compaction on CPU 1 isolates the same balloon pages (an LRU page first, so even the pre-patch scanner
/// holds lru_lock) and then puts them back, as when it gives up. Pre-d6d86c0 dequeue walks the list without
/// pages_lock, only trylocks a page and never asks whether it is still listed: it takes isolated pages off
/// compaction's private list (lost pages, list corruption, isolated_pages stuck). d6d86c0 skips pages whose
/// PG_private is clear, leaving only the next-cursor race of the unlocked walk (fixed in v4.5 by walking under
/// pages_lock).
/// </summary>
internal class DeflateVsIsolateScenario(ScenarioKit kit) : IScenario
{
    public const int BalloonSize = 4;
    public const int Deflate = 4;

    public IReadOnlyList<SimTask> Prepare()
    {
        int lru = kit.AnonPage();
        var balloon = kit.BalloonPages(BalloonSize);
        int end = balloon[^1] + 1;
        return
        [
            new SimTask(0, 0, "vballoon: leak_balloon", () => kit.LeakBalloon(Deflate)),
            new SimTask(1, 1, "compaction", () => Compaction(kit.Isolate(lru, end, MigrateMode.Sync))),
        ];
    }

    public void Finish() => kit.Sim.CheckInvariants();

    protected ScenarioKit Kit => kit;

    protected virtual void Compaction(Compaction.CompactControl cc) => kit.PutbackAndRelease(cc);
}
