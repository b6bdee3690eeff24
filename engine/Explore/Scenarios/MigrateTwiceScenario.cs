using BalloonScript.Engine.Migrate;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 2 (kernel-semantics §8.2; Khlebnikov v2 2/6). One balloon page, compacted three times in a row: each
/// round the migrate scanner walks an LRU page and then the balloon page, and migrate_pages moves whatever it
/// isolated; the balloon page's target sits right after the next round's LRU page. Pre-d6d86c0 the balloon branch of
/// __unmap_and_move never fires; the page goes through move_to_new_page, whose "rc != 0 → newpage-&gt;mapping =
/// NULL" wipes the new page's balloon mapping: it moves once, then is a balloon page nobody can isolate
/// (balloon_unmovable). Post-patch it moves every round (balloon_migrate 3). Its one kernel path stays C#: each
/// round scans up to where the previous round moved the page, which operations fixed before the run cannot say.
/// </summary>
internal sealed class MigrateTwiceScenario(ScenarioKit kit) : IScenario
{
    public const int Rounds = 3;

    public void Prepare(RaceBuilder race)
    {
        // PFNs ascend as they are allocated: L0 P L1 T0 L2 T1 T2 (L = anon on the LRU, P = balloon, T = target):
        // round r scans from L(r) to the balloon page's current place, and moves it to T(r), just after L(r+1).
        var lrus = new int[Rounds];
        var targets = new int[Rounds];
        lrus[0] = kit.AnonPage();
        int balloon = kit.BalloonPages(1).Single();
        for (int r = 0; r < Rounds; r++)
        {
            if (r + 1 < Rounds) lrus[r + 1] = kit.AnonPage();
            targets[r] = kit.Target();
        }
        race.Task(0, "compaction x3", () => Rounds3(balloon, lrus, targets));
    }

    private void Rounds3(int balloon, int[] lrus, int[] targets)
    {
        int current = balloon;
        for (int r = 0; r < Rounds; r++)
        {
            var cc = kit.Isolate(lrus[r], current + 1, MigrateMode.Sync);
            int target = targets[r];
            bool handedOut = false;
            kit.MigrateAndRelease(cc, page =>
            {
                if (page != current) return kit.Target();
                handedOut = true;
                return target;
            });
            if (!handedOut) kit.FreeTarget(target); // the balloon page was not isolated: its target is not needed
            else if (kit.Pages.Kind[target] == (byte)Mm.PageKind.Balloon) current = target;
        }
    }
}
