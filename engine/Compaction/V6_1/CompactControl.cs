using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// struct compact_control of 6.1 (mm/internal.h): v3.16's fields and those 6.1 compaction reads (docs/kernel/v6.1.md §3.1):
/// the request (gfp mask, alloc flags, highest zone), the fast searches' state, the scanned totals counted into vmstat at
/// the end of compact_zone, and how hard this run may try.
/// </summary>
internal sealed class CompactControl(PageLists lists, Zone zone, int order, Gfp gfp, MigrateMode mode, bool ignoreSkipHint)
    : Compaction.CompactControl(lists, zone, order, PageAlloc.V6_1.MigrateType.FromGfp(gfp), mode, ignoreSkipHint)
{
    /// <summary><c>gfp_mask</c>: the request's (GFP_KERNEL for compact_memory, kcompactd and proactive compaction).</summary>
    public Gfp GfpMask { get; } = gfp;
    /// <summary><c>alloc_flags</c>: the watermark compaction_suitable tests (WMARK_MIN for everyone but a direct compactor's own flags).</summary>
    public int AllocFlags { get; init; } = PageAlloc.AllocFlags.WmarkMin;
    /// <summary><c>highest_zoneidx</c>: whose lowmem_reserve the watermark tests add.</summary>
    public int HighestZoneidx { get; init; }
    /// <summary><c>search_order</c>: where fast_isolate_freepages starts its round-robin over orders.</summary>
    public int SearchOrder { get; set; } = order;
    /// <summary><c>fast_search_fail</c>: failed fast searches; each halves freelist_scan_limit.</summary>
    public int FastSearchFail { get; set; }
    /// <summary><c>fast_start_pfn</c>: the lowest block a fast search found free pages in; 0 unset, <see cref="int.MaxValue"/> used (ULONG_MAX).</summary>
    public int FastStartPfn { get; set; }
    /// <summary><c>rescan</c>: the migrate scanner is in the same pageblock as the last migration.</summary>
    public bool Rescan { get; set; }
    /// <summary><c>whole_zone</c>: the run started at the zone's first pageblock.</summary>
    public bool WholeZone { get; set; }
    /// <summary><c>ignore_block_suitable</c>: any pageblock may be a migration target (SYNC_FULL priority).</summary>
    public bool IgnoreBlockSuitable { get; init; }
    /// <summary><c>proactive_compaction</c>: kcompactd's proactive run, finished by the zone's fragmentation score.</summary>
    public bool ProactiveCompaction { get; init; }
    /// <summary><c>total_migrate_scanned</c> / <c>total_free_scanned</c>: counted into compact_*_scanned when compact_zone ends.</summary>
    public long TotalMigrateScanned { get; set; }
    public long TotalFreeScanned { get; set; }
    /// <summary>The capture_control of a direct compaction (compaction_capture hands it a freed block of <c>order</c>).</summary>
    public CaptureControl? Capture { get; init; }
}
