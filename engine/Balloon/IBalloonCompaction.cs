using BalloonScript.Engine.Migrate;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The places where compaction and migration treat balloon pages, which differ per design (legacy
/// v3.8–v3.17, redesign d6d86c0/v3.18, fixed v4.5). Compaction and migration call these; each design is
/// one implementation chosen at composition time, so no <c>if (design == …)</c> appears in mm code.
/// </summary>
internal interface IBalloonCompaction
{
    /// <summary>
    /// The non-LRU branch of <c>isolate_migratepages_range</c> (v3.16): <c>balloon_page_movable(page)</c> and,
    /// in legacy only while <paramref name="lruLocked"/>, <c>balloon_page_isolate(page)</c>. True if the page
    /// was isolated (it now holds an extra reference and the caller links it into its migrate list).
    /// </summary>
    bool IsolateFromScanner(int pfn, bool lruLocked);

    /// <summary>
    /// The balloon test in <c>__unmap_and_move</c>: legacy <c>balloon_page_movable(page)</c> (on a locked,
    /// isolated page this is never true — defect 2), redesign <c>isolated_balloon_page(page)</c>.
    /// </summary>
    bool MigrationBranch(int page);

    /// <summary><c>balloon_page_migrate(newpage, page, mode)</c>; <paramref name="page"/> is locked by migration.</summary>
    int BalloonPageMigrate(int newpage, int page, MigrateMode mode);

    /// <summary>
    /// <c>a_ops-&gt;migratepage</c> of the balloon's mapping, reached from <c>move_to_new_page</c> when a
    /// balloon page takes the generic path (legacy): <c>virtballoon_migratepage</c>.
    /// </summary>
    int MappingMigratePage(int mapping, int newpage, int page, MigrateMode mode);

    /// <summary>
    /// <c>unmap_and_move</c> after <c>__unmap_and_move</c> returned <paramref name="rc"/>: legacy handles
    /// MIGRATEPAGE_BALLOON_SUCCESS here (NR_ISOLATED decrement, <c>balloon_page_free(page)</c>) and returns
    /// true, meaning "done, report success"; other designs return false.
    /// </summary>
    bool HandleBalloonSuccess(int rc, int page);

    /// <summary><c>__is_movable_balloon_page(page)</c>.</summary>
    bool IsMovableBalloonPage(int pfn);

    /// <summary>
    /// unmap_and_move, before the page is touched: what a design remembers to decide newpage's fate later.
    /// The 2019 stable fix ("don't rely on __PageMovable() of newpage after unlocking it") saves
    /// <c>!is_lru = isolated_balloon_page(page)</c> here; v3.16 and v3.18 save nothing (false).
    /// </summary>
    bool SaveIsBalloonPage(int page);

    /// <summary>
    /// unmap_and_move's test on a migrated-to newpage: true means <c>put_page(newpage)</c> (the balloon already
    /// holds it), false <c>putback_lru_page(newpage)</c>. v3.16 has no such test (false); v3.18 asks
    /// <c>__is_movable_balloon_page(newpage)</c> after balloon_page_migrate unlocked it, which the driver may
    /// have dequeued meanwhile (racy as merged); the 2019 fix uses <paramref name="saved"/>.
    /// </summary>
    bool NewPageIsBalloon(int newpage, bool saved);

    /// <summary><c>isolated_balloon_page(page)</c>: putback_movable_pages' test.</summary>
    bool IsolatedBalloonPage(int pfn);

    /// <summary><c>balloon_page_putback(page)</c>.</summary>
    void Putback(int pfn);
}
