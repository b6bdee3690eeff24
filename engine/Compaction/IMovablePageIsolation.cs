using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction;

/// <summary>
/// Movable pages that are not on an LRU list (v4.8's generic non-LRU movable pages: the balloon's), as compaction's
/// migrate scanner (isolate_migratepages_block, v4.8+) and the allocator's pageblock stealing (move_freepages, which
/// counts them as movable) see them: the lockless tests of include/linux/page-flags.h and <c>isolate_movable_page</c>
/// of mm/migrate.c, behind which the owner's isolate callback runs. Migration implements it
/// (<see cref="Migrate.V4_8.MovablePageIsolation"/>: 6.1's <c>isolate_movable_page</c> is v4.8's returning 0 / -EBUSY
/// instead of true / false, with <c>movable_operations</c> in place of a mapping's a_ops).
/// </summary>
internal partial interface IMovablePageIsolation
{
    /// <summary><c>__PageMovable(page)</c>: <c>page-&gt;mapping</c> carries PAGE_MAPPING_MOVABLE. Lockless; may be stale.</summary>
    bool PageMovable(int pfn);

    /// <summary><c>PageIsolated(page)</c>: someone isolated it already. Lockless; may be stale.</summary>
    bool PageIsolated(int pfn);

    /// <summary>
    /// <c>isolate_movable_page(page, mode)</c>: 0 if the page was isolated (the caller links it into its migrate list;
    /// it holds a reference for it), -EBUSY if not.
    /// </summary>
    [Preemptible]
    int IsolateMovablePage(int pfn, IsolateMode mode);
}
