using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The <c>address_space_operations</c> a driver gives the mapping of its non-LRU movable pages (v4.8
/// include/linux/fs.h, bda807d44454 "mm: migrate: support non-lru movable page migration"): <c>isolate_page</c>,
/// <c>putback_page</c> and <c>migratepage</c>. The migration core calls them with the page locked; the balloon's are
/// <c>balloon_aops</c> (b1123ea6d3b3).
/// </summary>
internal partial interface IMovableMappingOps : IDriverMigratePage
{
    /// <summary><c>a_ops-&gt;isolate_page(page, mode)</c>: take the page off the owner's own lists; false keeps it there.</summary>
    [Preemptible]
    bool IsolatePage(int page, IsolateMode mode);

    /// <summary><c>a_ops-&gt;putback_page(page)</c>: an isolated page the migration core gives back to its owner.</summary>
    [Preemptible]
    void PutbackPage(int page);
}
