using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// Where v3.x mm/migrate.c treats balloon pages in a version-specific way: the balloon branch of
/// <c>__unmap_and_move</c>, v3.16's MIGRATEPAGE_BALLOON_SUCCESS, and how <c>unmap_and_move</c> decides the fate of a
/// migrated-to newpage. A v3.x hook, called by v3.16 migration only; v4.8 migration has no balloon branch.
/// </summary>
internal partial interface IBalloonMigrationPath
{
    /// <summary>The balloon test in <c>__unmap_and_move</c>: true takes <c>balloon_page_migrate</c>.</summary>
    [Preemptible]
    bool MigrationBranch(int page);

    /// <summary>
    /// <c>unmap_and_move</c> after <c>__unmap_and_move</c> returned <paramref name="rc"/>: v3.16 handles
    /// MIGRATEPAGE_BALLOON_SUCCESS here and returns true ("done, report success").
    /// </summary>
    [Preemptible]
    bool HandleBalloonSuccess(int rc, int page);

    /// <summary><c>unmap_and_move</c> before the page is touched: what the version remembers to decide newpage's fate.</summary>
    bool SaveIsBalloonPage(int page);

    /// <summary><c>unmap_and_move</c>'s test on a migrated-to newpage: true = <c>put_page(newpage)</c>, false = <c>putback_lru_page(newpage)</c>.</summary>
    bool NewPageIsBalloon(int newpage, bool saved);
}
