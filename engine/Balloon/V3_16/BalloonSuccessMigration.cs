using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon.V3_16;

/// <summary>
/// Balloon pages through v3.16 mm/migrate.c (kernel-semantics §5.3–5.5, §8.2). __unmap_and_move's balloon
/// branch tests <c>balloon_page_movable(page)</c> on a page migration has locked and isolation holds a
/// reference to, so it never fires (defect 2): the page takes the generic path, move_to_new_page reaches the
/// driver through the fake mapping's a_ops, and the driver's MIGRATEPAGE_BALLOON_SUCCESS is handled in
/// unmap_and_move with balloon_page_free. newpage's fate is never asked.
/// </summary>
[KernelPart("balloon migration", PartVersion.V3_16)]
internal sealed partial class BalloonSuccessMigration(IBalloonMovability identity, BalloonPageOps balloon, PageTable pages, Node node)
    : IBalloonMigrationPath
{
    /// <summary>__unmap_and_move (v3.16): <c>balloon_page_movable(page)</c>: PG_locked is set and the count is 2, so never true.</summary>
    [Preemptible]
    public bool MigrationBranch(int page) => identity.Movable(page);

    /// <summary>
    /// unmap_and_move (v3.16), rc == MIGRATEPAGE_BALLOON_SUCCESS: the old page leaves the isolated count
    /// (balloon pages are "file": no PG_swapbacked) and is freed with balloon_page_free.
    /// </summary>
    [Preemptible]
    public bool HandleBalloonSuccess(int rc, int page)
    {
        if (rc != MigrateRc.BalloonSuccess) return false;
        var stat = pages.Test(page, PG.SwapBacked) ? ZoneStat.NrIsolatedAnon : ZoneStat.NrIsolatedFile;
        node.ZoneOf(page).Stat.Add((int)stat, -1);
        balloon.BalloonPageFree(page);
        return true;
    }

    public bool SaveIsBalloonPage(int page) => false;

    /// <summary>v3.16 unmap_and_move does not look at newpage: it always goes to putback_lru_page.</summary>
    public bool NewPageIsBalloon(int newpage, bool saved) => false;
}
