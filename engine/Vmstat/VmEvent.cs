namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// <c>enum vm_event_item</c> of v3.16 (include/linux/vm_event_item.h; a kernel with CONFIG_MIGRATION,
/// CONFIG_COMPACTION, CONFIG_HUGETLB_PAGE and CONFIG_TRANSPARENT_HUGEPAGE, without CONFIG_NUMA), in kernel order,
/// and the three balloon events v3.18 added. A per-zone event (FOR_ALL_ZONES) is four consecutive items, DMA, DMA32,
/// Normal, Movable: <c>event + zone index</c>. docs/kernel/reclaim-v3.16.md §9.1. Later groups are counted in every
/// design so that designs can be compared: the balloon events (v3.18), oom_kill (v4.13), and the kcompactd events
/// (KCOMPACTD_WAKE, v4.6, compact_daemon_wake; KCOMPACTD_MIGRATE_SCANNED and KCOMPACTD_FREE_SCANNED came after v4.9 —
/// a 4.9 vm_event_item.h has KCOMPACTD_WAKE only — and are in 6.1; zero in designs without kcompactd).
/// </summary>
internal enum VmEvent
{
    Pgpgin, Pgpgout, Pswpin, Pswpout,
    PgallocDma, PgallocDma32, PgallocNormal, PgallocMovable,
    Pgfree, Pgactivate, Pgdeactivate,
    Pgfault, Pgmajfault,
    PgrefillDma, PgrefillDma32, PgrefillNormal, PgrefillMovable,
    PgstealKswapdDma, PgstealKswapdDma32, PgstealKswapdNormal, PgstealKswapdMovable,
    PgstealDirectDma, PgstealDirectDma32, PgstealDirectNormal, PgstealDirectMovable,
    PgscanKswapdDma, PgscanKswapdDma32, PgscanKswapdNormal, PgscanKswapdMovable,
    PgscanDirectDma, PgscanDirectDma32, PgscanDirectNormal, PgscanDirectMovable,
    PgscanDirectThrottle,
    Pginodesteal, SlabsScanned, KswapdInodesteal, KswapdLowWmarkHitQuickly, KswapdHighWmarkHitQuickly,
    Pageoutrun, Allocstall,
    Pgrotated,
    DropPagecache, DropSlab,
    PgmigrateSuccess, PgmigrateFail,
    CompactMigrateScanned, CompactFreeScanned, CompactIsolated, CompactStall, CompactFail, CompactSuccess,
    HtlbBuddyAllocSuccess, HtlbBuddyAllocFail,
    UnevictablePgsCulled, UnevictablePgsScanned, UnevictablePgsRescued, UnevictablePgsMlocked,
    UnevictablePgsMunlocked, UnevictablePgsCleared, UnevictablePgsStranded,
    ThpFaultAlloc, ThpFaultFallback, ThpCollapseAlloc, ThpCollapseAllocFailed, ThpSplit, ThpZeroPageAlloc,
    ThpZeroPageAllocFailed,
    BalloonInflate, BalloonDeflate, BalloonMigrate,
    OomKill,
    /// <summary>KCOMPACTD_WAKE (v4.6), KCOMPACTD_MIGRATE_SCANNED, KCOMPACTD_FREE_SCANNED (after v4.9); counted by kcompactd's designs only.</summary>
    CompactDaemonWake, CompactDaemonMigrateScanned, CompactDaemonFreeScanned,
    /// <summary>
    /// The node-reclaim events (v4.8 counts reclaim per reclaimer, not per zone; 5.8 adds the anon/file split):
    /// ALLOCSTALL and PGSCAN_SKIP per zone of the request, PGREFILL, PGSTEAL_KSWAPD/DIRECT, PGSCAN_KSWAPD/DIRECT,
    /// PGSCAN_ANON/FILE, PGSTEAL_ANON/FILE. Counted by 6.1 reclaim only (v3.16 reclaim counts the per-zone items above).
    /// </summary>
    AllocstallDma, AllocstallDma32, AllocstallNormal, AllocstallMovable,
    PgskipDma, PgskipDma32, PgskipNormal, PgskipMovable,
    Pgrefill, PgstealKswapd, PgstealDirect, PgscanKswapd, PgscanDirect, PgscanAnon, PgscanFile, PgstealAnon, PgstealFile,
    /// <summary>SWAP_RA and SWAP_RA_HIT (4.14+, in 6.1): pages swap readahead read beyond the faulting one, and faults that found one. Counted by 6.1 only.</summary>
    SwapRa, SwapRaHit,
    /// <summary>
    /// WORKINGSET_REFAULT_ANON, WORKINGSET_ACTIVATE_ANON, WORKINGSET_RESTORE_ANON (5.9+, node stats in 6.1, kept here with
    /// the events so that vmstat() has them): anonymous refaults (<see cref="Reclaim.V6_1.Workingset"/>). Counted by 6.1 only.
    /// </summary>
    WorkingsetRefaultAnon, WorkingsetActivateAnon, WorkingsetRestoreAnon,
    /// <summary>
    /// WORKINGSET_RESTORE_FILE (5.9+, a node stat in 6.1): a refaulting page-cache page that had been in the workingset
    /// (PG_workingset). The file refaults and activations are the zone items WORKINGSET_REFAULT and WORKINGSET_ACTIVATE,
    /// which both versions count (v3.16's names; 6.1's _file). Counted by 6.1 only.
    /// </summary>
    WorkingsetRestoreFile,
    Count,
}

internal static class VmEvents
{
    /// <summary>The zone suffixes of a FOR_ALL_ZONES event (TEXTS_FOR_ZONES on x86-64).</summary>
    private static readonly string[] ZoneSuffixes = ["dma", "dma32", "normal", "movable"];

    /// <summary>/proc/vmstat names (vmstat_text), in <see cref="VmEvent"/> order.</summary>
    public static readonly string[] Names =
    [
        "pgpgin", "pgpgout", "pswpin", "pswpout",
        .. Zoned("pgalloc"),
        "pgfree", "pgactivate", "pgdeactivate",
        "pgfault", "pgmajfault",
        .. Zoned("pgrefill"), .. Zoned("pgsteal_kswapd"), .. Zoned("pgsteal_direct"), .. Zoned("pgscan_kswapd"),
        .. Zoned("pgscan_direct"),
        "pgscan_direct_throttle",
        "pginodesteal", "slabs_scanned", "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly",
        "kswapd_high_wmark_hit_quickly", "pageoutrun", "allocstall",
        "pgrotated",
        "drop_pagecache", "drop_slab",
        "pgmigrate_success", "pgmigrate_fail",
        "compact_migrate_scanned", "compact_free_scanned", "compact_isolated", "compact_stall", "compact_fail",
        "compact_success",
        "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail",
        "unevictable_pgs_culled", "unevictable_pgs_scanned", "unevictable_pgs_rescued", "unevictable_pgs_mlocked",
        "unevictable_pgs_munlocked", "unevictable_pgs_cleared", "unevictable_pgs_stranded",
        "thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "thp_collapse_alloc_failed", "thp_split",
        "thp_zero_page_alloc", "thp_zero_page_alloc_failed",
        "balloon_inflate", "balloon_deflate", "balloon_migrate",
        "oom_kill",
        "compact_daemon_wake", "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
        .. Zoned("allocstall"), .. Zoned("pgskip"),
        "pgrefill", "pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pgscan_direct", "pgscan_anon", "pgscan_file",
        "pgsteal_anon", "pgsteal_file",
        "swap_ra", "swap_ra_hit",
        "workingset_refault_anon", "workingset_activate_anon", "workingset_restore_anon",
        "workingset_restore_file",
    ];


    private static IEnumerable<string> Zoned(string name) => ZoneSuffixes.Select(z => $"{name}_{z}");
}
