using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// How the driver lets go of pages: how leak_balloon gives the dequeued pages back (release_pages_by_pfn /
/// release_pages_balloon: before or after dropping balloon_lock, and how each page is released), and the
/// references virtballoon_migratepage takes on the new page and drops on the old one.
/// </summary>
internal partial interface IDriverRelease
{
    /// <summary>True from v4.5 (f68b992): the pages are released before balloon_lock is dropped.</summary>
    bool UnderBalloonLock { get; }

    /// <summary>
    /// True in v3.16: release_pages_by_pfn frees each page, then adds it back to the zone's managed pages
    /// (adjust_managed_page_count); from v3.18 the count goes first.
    /// </summary>
    bool AdjustsAfterRelease { get; }

    /// <summary>The release of one page: v3.16 balloon_page_free, v3.18 put_page.</summary>
    [Preemptible]
    void Release(int page);

    /// <summary><c>virtballoon_migratepage</c> before inserting newpage (v3.18: the balloon's reference on it).</summary>
    void MigratepageTakesNewpage(int newpage);

    /// <summary><c>virtballoon_migratepage</c>'s end: what it does with the old page and the code it returns.</summary>
    [Preemptible]
    int MigratepageFinish(int page);
}
