using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The balloon branch of v3.x compaction's migrate scanner (<c>isolate_migratepages_range</c>, non-LRU page):
/// <c>balloon_page_movable(page)</c>, then <c>balloon_page_isolate(page)</c> — before d6d86c0 only while the
/// scanner holds lru_lock (defect 3). A v3.x hook, called by v3.16 compaction only (from v4.8 the scanner calls
/// the migration core's <c>isolate_movable_page</c>).
/// </summary>
internal partial interface IScannerIsolation
{
    /// <summary>True if the page was isolated: it holds an extra reference and the caller links it into its migrate list.</summary>
    [Preemptible]
    bool IsolateFromScanner(int pfn, bool lruLocked);
}
