using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Compaction;

/// <summary>
/// struct compact_control (v3.16 mm/internal.h): one compaction run over one zone. The two private lists
/// (<c>freepages</c>, <c>migratepages</c>) are list heads in <see cref="PageLists"/>, owned by this run only;
/// <see cref="Release"/> gives them back. Later versions add their fields in a subclass (<see cref="V6_1.CompactControl"/>).
/// </summary>
internal class CompactControl
{
    /// <summary>COMPACT_CLUSTER_MAX = SWAP_CLUSTER_MAX.</summary>
    public const int ClusterMax = 32;

    private readonly PageLists _lists;

    public CompactControl(PageLists lists, Zone zone, int order, int migratetype, MigrateMode mode, bool ignoreSkipHint)
    {
        _lists = lists;
        FreePages = lists.NewHead();
        MigratePages = lists.NewHead();
        Zone = zone;
        Order = order;
        Migratetype = migratetype;
        Mode = mode;
        IgnoreSkipHint = ignoreSkipHint;
    }

    public int FreePages { get; }
    public int MigratePages { get; }
    public int NrFreepages { get; set; }
    public int NrMigratepages { get; set; }
    /// <summary>Where the free scanner is (it walks down from the zone end).</summary>
    public int FreePfn { get; set; }
    /// <summary>Where the migrate scanner is (it walks up from the zone start).</summary>
    public int MigratePfn { get; set; }
    public MigrateMode Mode { get; }
    public bool IgnoreSkipHint { get; }
    public bool FinishedUpdateFree { get; set; }
    public bool FinishedUpdateMigrate { get; set; }
    /// <summary>The order being compacted for; -1 = the whole zone (compact_memory).</summary>
    public int Order { get; }
    /// <summary>The migratetype of the allocation that asked for compaction.</summary>
    public int Migratetype { get; }
    /// <summary>
    /// <c>cc-&gt;zone</c>. The per-node loops (compact_node, v3.16 compact_pgdat, kcompactd_do_work, 6.1
    /// proactive_compact_node) point one control at each zone in turn, so what compact_zone does not reset carries on
    /// into the next zone: v3.16's <c>finished_update_*</c> and <c>contended</c>, 6.1's <c>whole_zone</c>,
    /// <c>fast_search_fail</c> and <c>search_order</c>.
    /// </summary>
    public Zone Zone { get; set; }
    /// <summary>
    /// <c>direct_compaction</c> (v4.8): an allocation's own compaction (compact_zone_order), not kcompactd's or a
    /// manual one. v4.8 and 6.1 parts read it (the migrate scanner's skip-on-failure; 6.1 also suitable_migration_source
    /// and the skip flush); v3.16 has no such field.
    /// </summary>
    public bool DirectCompaction { get; init; }
    /// <summary>Async compaction gave up on need_resched() or lock contention.</summary>
    public bool Contended { get; set; }

    /// <summary>
    /// compact_scanners_met (v4.8, 6.1): the free scanner is in the migrate scanner's pageblock or below. The scanners of
    /// those versions move by whole pageblocks, so they meet at pageblock granularity; v3.16 compared the PFNs.
    /// </summary>
    public bool ScannersMetInPageblock => FreePfn >> Zone.PageblockOrder <= MigratePfn >> Zone.PageblockOrder;

    /// <summary>
    /// isolate_success: the page goes at the head of <c>migratepages</c>; true once COMPACT_CLUSTER_MAX pages are
    /// there (the scanner stops: "avoid isolating too much").
    /// </summary>
    public bool AddMigratePage(int pfn)
    {
        _lists.Add(pfn, MigratePages);
        return ++NrMigratepages == ClusterMax;
    }

    /// <summary>Give the list heads back (the lists must be empty: VM_BUG_ON in compact_zone_order).</summary>
    public void Release()
    {
        _lists.FreeHead(FreePages);
        _lists.FreeHead(MigratePages);
    }
}
