using BalloonScript.Engine.Migrate;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// How a kernel version marks a balloon page and recognises it: the predicates of
/// include/linux/balloon_compaction.h, the marking half of <c>balloon_page_insert</c> / <c>balloon_page_delete</c>,
/// and where <c>balloon_page_migrate</c> finds the driver. v3.8–v3.17: a fake address_space with AS_BALLOON_MAP
/// (<see cref="V3_16.FakeMappingIdentity"/>); v3.18: PageBalloon and PG_private (<see cref="V3_18.PageBalloonIdentity"/>).
/// </summary>
internal interface IBalloonPageIdentity
{
    /// <summary><c>balloon_page_movable(page)</c>: the migrate scanner's lockless test.</summary>
    bool Movable(int page);

    /// <summary><c>__is_movable_balloon_page(page)</c>.</summary>
    bool IsMovableBalloonPage(int page);

    /// <summary><c>isolated_balloon_page(page)</c>: putback_movable_pages' test.</summary>
    bool IsolatedBalloonPage(int page);

    /// <summary>balloon_page_isolate's re-check of the page under its page lock.</summary>
    bool IsolationRecheck(int page);

    /// <summary>balloon_page_insert's marking of the page (the list add is common); page lock and pages_lock held.</summary>
    void Mark(int page);

    /// <summary><c>balloon_page_delete(page)</c>: the page stops being a balloon page (and leaves the list where the version says so).</summary>
    void Delete(int page);

    /// <summary>What <c>__isolate_balloon_page</c> changes besides the list (v3.18: clears PG_private).</summary>
    void OnIsolate(int page);

    /// <summary>What <c>__putback_balloon_page</c> changes besides the list (v3.18: sets PG_private).</summary>
    void OnPutback(int page);

    /// <summary><c>balloon_page_device(page)</c>: the device the page names; 0 = NULL.</summary>
    int Device(int page);

    /// <summary>How <c>balloon_page_migrate</c> reaches the driver's migratepage; -EAGAIN when there is none.</summary>
    int CallMigratepage(int newpage, int page, MigrateMode mode);

    /// <summary>The page carries this version's balloon mark (the sanitizer's omniscient view, not kernel code).</summary>
    bool HasBalloonIdentity(int page);

    /// <summary>A page on the balloon list that compaction could isolate (the sanitizer's view).</summary>
    bool ListedPageMovable(int page);
}
