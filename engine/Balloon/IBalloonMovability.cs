using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The balloon-specific movability of v3.8–v4.7: the predicates of include/linux/balloon_compaction.h that
/// compaction's and migration's balloon branches test, what <c>__isolate_balloon_page</c> /
/// <c>__putback_balloon_page</c> change besides the list, and where <c>balloon_page_migrate</c> finds the driver.
/// v4.8 has none of it (b1123ea6d3b3): its balloon pages are generic non-LRU movable pages.
/// </summary>
internal partial interface IBalloonMovability
{
    /// <summary><c>balloon_page_movable(page)</c>: the migrate scanner's lockless test.</summary>
    [Preemptible]
    bool Movable(int page);

    /// <summary><c>__is_movable_balloon_page(page)</c>.</summary>
    bool IsMovableBalloonPage(int page);

    /// <summary><c>isolated_balloon_page(page)</c>: putback_movable_pages' test.</summary>
    bool IsolatedBalloonPage(int page);

    /// <summary>balloon_page_isolate's re-check of the page under its page lock.</summary>
    bool IsolationRecheck(int page);

    /// <summary>What <c>__isolate_balloon_page</c> changes besides the list (v3.18: clears PG_private).</summary>
    void OnIsolate(int page);

    /// <summary>What <c>__putback_balloon_page</c> changes besides the list (v3.18: sets PG_private).</summary>
    void OnPutback(int page);

    /// <summary><c>balloon_page_device(page)</c>: the device the page names; 0 = NULL.</summary>
    int Device(int page);

    /// <summary>How <c>balloon_page_migrate</c> reaches the driver's migratepage; -EAGAIN when there is none.</summary>
    [Preemptible]
    int CallMigratepage(int newpage, int page, MigrateMode mode);
}
