namespace BalloonScript.Engine.Virtio;

/// <summary>
/// How leak_balloon gives the dequeued pages back (release_pages_by_pfn / release_pages_balloon): before or
/// after dropping balloon_lock, and how each page is released.
/// </summary>
internal interface IDriverRelease
{
    /// <summary>True from v4.5 (f68b992): the pages are released before balloon_lock is dropped.</summary>
    bool UnderBalloonLock { get; }

    /// <summary>The release of one page: v3.16 balloon_page_free, v3.18 put_page.</summary>
    void Release(int page);
}
