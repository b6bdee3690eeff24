using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction;

/// <summary>
/// The mm/compaction.c entry points other parts call: manual compaction, kswapd's compaction and the deferral
/// reclaim checks, and the migrate scanner over a PFN range on a caller's compact_control (what CMA's
/// alloc_contig_range and the race scenarios use). Direct compaction (try_to_compact_pages) changed its signature
/// between versions (6.1: priorities and a captured page), so each version's page allocator calls its own version's
/// compactor. One implementation per kernel version (<see cref="V3_16.Compactor"/>).
/// </summary>
internal partial interface ICompaction
{
    /// <summary>
    /// compact_node for every zone, as a write to /proc/sys/vm/compact_memory does (<see cref="MigrateMode.Sync"/>);
    /// each zone's result. Another <paramref name="mode"/> runs the same walk as that mode's compaction would.
    /// </summary>
    [Preemptible]
    CompactStatus[] CompactNode(MigrateMode mode);

    /// <summary>compaction_suitable: whether compacting the zone could produce a free block of <paramref name="order"/>.</summary>
    CompactStatus CompactionSuitable(Zone zone, int order);

    /// <summary>compact_pgdat: kswapd's asynchronous compaction of the node for <paramref name="order"/>.</summary>
    [Preemptible]
    void CompactPgdat(int order);

    /// <summary>reset_isolation_suitable: kswapd going to sleep clears the skip bits of the zones due for a flush.</summary>
    [Preemptible]
    void ResetIsolationSuitable();

    /// <summary>compaction_deferred: true if this attempt at <paramref name="order"/> should be skipped (and counts it).</summary>
    bool CompactionDeferred(Zone zone, int order);

    /// <summary>defer_compaction: after a failed compaction at <paramref name="order"/>.</summary>
    void DeferCompaction(Zone zone, int order);

    /// <summary>compaction_defer_reset: after an allocation at <paramref name="order"/> succeeded (or is expected to).</summary>
    void CompactionDeferReset(Zone zone, int order, bool allocSuccess);

    /// <summary>A fresh compact_control for one zone (its private lists are taken from the list heads).</summary>
    CompactControl NewControl(Zone zone, int order, int migratetype, MigrateMode mode, bool ignoreSkipHint);

    /// <summary>isolate_migratepages_range: the migrate scanner over [low, end) onto cc's migrate list; the PFN reached, 0 on abort.</summary>
    [Preemptible]
    int IsolateMigratepagesRange(CompactControl cc, int lowPfn, int endPfn);

    /// <summary>compact_zone on a caller's compact_control.</summary>
    [Preemptible]
    CompactStatus CompactZone(CompactControl cc);

    /// <summary>The end of a compact_control: both private lists must be empty; their heads are given back.</summary>
    void Release(CompactControl cc);
}
