using System.Text;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;

namespace BalloonScript.Engine.Vmstat.V6_1;

/// <summary>
/// The /proc text of 6.1 mm/vmstat.c (docs/kernel/v6.1.md §9) for node 0 of a Debian 12 amd64 kernel (CONFIG_NUMA,
/// CONFIG_ZONE_DEVICE, CMA, ZSMALLOC, ZSWAP, KSM, NUMA balancing, THP with PUD, swap; zones DMA, DMA32, Normal, Movable,
/// Device). buddyinfo and unusable_index are unchanged, extfrag_index pads the integer part to two places; pagetypeinfo has 6.1's migratetype columns (HighAtomic, CMA)
/// and caps each count at 100000 (printed "&gt;100000"); /proc/vmstat is 6.1's vmstat_text; zoneinfo prints every zone,
/// the boost and cma lines, the per-node stats on the first populated zone, and the NUMA counters.
/// <para>
/// Counters the simulation does not keep print 0 (workingset_nodereclaim, thp_file_*, ...); workingset_nodes counts the
/// shadow-only nodes of the page cache's trees (6.1 does not track the swap cache's: its add and delete set no
/// workingset_update_node until 6.3); the reclaim counters are 6.1 reclaim's
/// (<see cref="VmEvent.Pgrefill"/> and the rest of the node-reclaim events). The dirty thresholds are 4.2 and later's
/// domain_dirty_limits (<see cref="GlobalDirtyLimits"/>). A single node: numa_hit = numa_local = allocations served.
/// </para>
/// </summary>
internal sealed class ProcText(Node node, PageLists lists, VmStat vmstat, SimulationOptions options, Reclaim.ZoneReclaimable reclaimable,
    Writeback writeback, BuddyAllocator buddy, Reclaim.IReclaim reclaim, Swap.SwapArea swap, PageTable pages, PageCache pageCache,
    IPerCpuPages? pcp = null, Reclaim.V6_1.NodeReclaimState? reclaimState = null)
    : Vmstat.ProcText(node, lists, vmstat, options, reclaimable, writeback, pcp)
{
    /// <summary>global_dirty_limits as 4.2 on compute it (<see cref="Mm.Writeback.DomainDirtyLimits"/>).</summary>
    protected override (long Background, long Dirty) GlobalDirtyLimits() => Writeback.DomainDirtyLimits();

    /// <summary>The zone types of an x86-64 kernel with ZONE_DEVICE, in zone_idx order (MAX_NR_ZONES = 5).</summary>
    private static readonly string[] ZoneNames = ["DMA", "DMA32", "Normal", "Movable", "Device"];

    /// <summary>The counter pagetypeinfo stops at (the zone lock is held while it walks a free list).</summary>
    private const int PagetypeinfoCap = 100000;

    protected override string FreeCount(int head)
    {
        int n = Lists.Count(head, PagetypeinfoWalker);
        return n >= PagetypeinfoCap ? $">{PagetypeinfoCap,6} " : $"{n,6} ";
    }

    /// <summary>
    /// vmstat_show over 6.1's vmstat_text (pgpgin/pgpgout halved: sectors to KiB), then the deprecated counter it prints
    /// after the last item "to avoid breaking userspace" (5.8): <c>nr_unstable 0</c>.
    /// </summary>
    public override string Vmstat()
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in Items()) sb.Append(name).Append(' ').Append(value).Append('\n');
        return sb.Append("nr_unstable 0\n").ToString();
    }

    /// <summary>extfrag_index as 6.1 prints it: <c>"%2d.%03d "</c> ("mm: vmstat.c: make extfrag_index show more pretty", 5.16).</summary>
    public override string ExtfragIndex() => PerOrder(Fragmentation.ZoneIndex, width: 2);

    private long G(ZoneStat item) => VmStat.Global(item);
    private long E(VmEvent e) => VmStat.Shown(e);
    private long NumaHits => Node.Zones.Sum(buddy.NumaHit);

    private IEnumerable<(string, long)> Items()
    {
        IEnumerable<(string, long)> Zero(params string[] names) => names.Select(n => (n, 0L));
        IEnumerable<(string, long)> PerZone(string name, Func<int, long> value) => ZoneNames.Select((z, i) => ($"{name}_{z.ToLowerInvariant()}", value(i)));
        var (background, dirty) = GlobalDirtyLimits();
        return
        [
            ("nr_free_pages", G(ZoneStat.NrFreePages)), ("nr_zone_inactive_anon", G(ZoneStat.NrInactiveAnon)),
            ("nr_zone_active_anon", G(ZoneStat.NrActiveAnon)), ("nr_zone_inactive_file", G(ZoneStat.NrInactiveFile)),
            ("nr_zone_active_file", G(ZoneStat.NrActiveFile)), ("nr_zone_unevictable", G(ZoneStat.NrUnevictable)),
            ("nr_zone_write_pending", G(ZoneStat.NrDirty) + G(ZoneStat.NrWriteback)), ("nr_mlock", G(ZoneStat.NrMlock)),
            ("nr_bounce", G(ZoneStat.NrBounce)), ("nr_zspages", 0), ("nr_free_cma", G(ZoneStat.NrFreeCmaPages)),
            ("numa_hit", NumaHits), .. Zero("numa_miss", "numa_foreign", "numa_interleave"), ("numa_local", NumaHits), ("numa_other", 0),
            .. NodeItems(),
            ("nr_dirty_threshold", dirty), ("nr_dirty_background_threshold", background),
            ("pgpgin", E(VmEvent.Pgpgin)), ("pgpgout", E(VmEvent.Pgpgout)), ("pswpin", E(VmEvent.Pswpin)), ("pswpout", E(VmEvent.Pswpout)),
            .. PerZone("pgalloc", i => i < 4 ? E(VmEvent.PgallocDma + i) : 0),
            .. PerZone("allocstall", i => i < 4 ? E(VmEvent.AllocstallDma + i) : 0),
            .. PerZone("pgskip", i => i < 4 ? E(VmEvent.PgskipDma + i) : 0),
            ("pgfree", E(VmEvent.Pgfree)), ("pgactivate", E(VmEvent.Pgactivate)), ("pgdeactivate", E(VmEvent.Pgdeactivate)), ("pglazyfree", 0),
            ("pgfault", E(VmEvent.Pgfault)), ("pgmajfault", E(VmEvent.Pgmajfault)), ("pglazyfreed", 0),
            ("pgrefill", E(VmEvent.Pgrefill)), ("pgreuse", 0),
            ("pgsteal_kswapd", E(VmEvent.PgstealKswapd)), ("pgsteal_direct", E(VmEvent.PgstealDirect)),
            .. Zero("pgdemote_kswapd", "pgdemote_direct"),
            ("pgscan_kswapd", E(VmEvent.PgscanKswapd)), ("pgscan_direct", E(VmEvent.PgscanDirect)),
            ("pgscan_direct_throttle", E(VmEvent.PgscanDirectThrottle)),
            ("pgscan_anon", E(VmEvent.PgscanAnon)), ("pgscan_file", E(VmEvent.PgscanFile)),
            ("pgsteal_anon", E(VmEvent.PgstealAnon)), ("pgsteal_file", E(VmEvent.PgstealFile)), ("zone_reclaim_failed", 0),
            ("pginodesteal", E(VmEvent.Pginodesteal)), ("slabs_scanned", E(VmEvent.SlabsScanned)),
            ("kswapd_inodesteal", E(VmEvent.KswapdInodesteal)), ("kswapd_low_wmark_hit_quickly", E(VmEvent.KswapdLowWmarkHitQuickly)),
            ("kswapd_high_wmark_hit_quickly", E(VmEvent.KswapdHighWmarkHitQuickly)), ("pageoutrun", E(VmEvent.Pageoutrun)),
            ("pgrotated", E(VmEvent.Pgrotated)), ("drop_pagecache", E(VmEvent.DropPagecache)), ("drop_slab", E(VmEvent.DropSlab)),
            ("oom_kill", E(VmEvent.OomKill)),
            .. Zero("numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local", "numa_pages_migrated"),
            ("pgmigrate_success", E(VmEvent.PgmigrateSuccess)), ("pgmigrate_fail", E(VmEvent.PgmigrateFail)),
            .. Zero("thp_migration_success", "thp_migration_fail", "thp_migration_split"),
            ("compact_migrate_scanned", E(VmEvent.CompactMigrateScanned)), ("compact_free_scanned", E(VmEvent.CompactFreeScanned)),
            ("compact_isolated", E(VmEvent.CompactIsolated)), ("compact_stall", E(VmEvent.CompactStall)),
            ("compact_fail", E(VmEvent.CompactFail)), ("compact_success", E(VmEvent.CompactSuccess)),
            ("compact_daemon_wake", E(VmEvent.CompactDaemonWake)), ("compact_daemon_migrate_scanned", E(VmEvent.CompactDaemonMigrateScanned)),
            ("compact_daemon_free_scanned", E(VmEvent.CompactDaemonFreeScanned)),
            ("htlb_buddy_alloc_success", E(VmEvent.HtlbBuddyAllocSuccess)), ("htlb_buddy_alloc_fail", E(VmEvent.HtlbBuddyAllocFail)),
            .. Zero("cma_alloc_success", "cma_alloc_fail"),
            ("unevictable_pgs_culled", E(VmEvent.UnevictablePgsCulled)), ("unevictable_pgs_scanned", E(VmEvent.UnevictablePgsScanned)),
            ("unevictable_pgs_rescued", E(VmEvent.UnevictablePgsRescued)), ("unevictable_pgs_mlocked", E(VmEvent.UnevictablePgsMlocked)),
            ("unevictable_pgs_munlocked", E(VmEvent.UnevictablePgsMunlocked)), ("unevictable_pgs_cleared", E(VmEvent.UnevictablePgsCleared)),
            ("unevictable_pgs_stranded", E(VmEvent.UnevictablePgsStranded)),
            ("thp_fault_alloc", E(VmEvent.ThpFaultAlloc)), ("thp_fault_fallback", E(VmEvent.ThpFaultFallback)), ("thp_fault_fallback_charge", 0),
            ("thp_collapse_alloc", E(VmEvent.ThpCollapseAlloc)), ("thp_collapse_alloc_failed", E(VmEvent.ThpCollapseAllocFailed)),
            .. Zero("thp_file_alloc", "thp_file_fallback", "thp_file_fallback_charge", "thp_file_mapped"),
            ("thp_split_page", E(VmEvent.ThpSplit)),
            .. Zero("thp_split_page_failed", "thp_deferred_split_page", "thp_split_pmd", "thp_scan_exceed_none_pte",
                "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte", "thp_split_pud"),
            ("thp_zero_page_alloc", E(VmEvent.ThpZeroPageAlloc)), ("thp_zero_page_alloc_failed", E(VmEvent.ThpZeroPageAllocFailed)),
            .. Zero("thp_swpout", "thp_swpout_fallback"),
            ("balloon_inflate", E(VmEvent.BalloonInflate)), ("balloon_deflate", E(VmEvent.BalloonDeflate)), ("balloon_migrate", E(VmEvent.BalloonMigrate)),
            ("swap_ra", E(VmEvent.SwapRa)), ("swap_ra_hit", E(VmEvent.SwapRaHit)),
            .. Zero("ksm_swpin_copy", "cow_ksm", "zswpin", "zswpout", "direct_map_level2_splits", "direct_map_level3_splits"),
        ];
    }

    /// <summary>enum node_stat_item (6.1) in vmstat_text order, summed over the node's zones (THP items are counted in huge pages).</summary>
    private IEnumerable<(string, long)> NodeItems() =>
    [
        ("nr_inactive_anon", G(ZoneStat.NrInactiveAnon)), ("nr_active_anon", G(ZoneStat.NrActiveAnon)),
        ("nr_inactive_file", G(ZoneStat.NrInactiveFile)), ("nr_active_file", G(ZoneStat.NrActiveFile)),
        ("nr_unevictable", G(ZoneStat.NrUnevictable)), ("nr_slab_reclaimable", G(ZoneStat.NrSlabReclaimable)),
        ("nr_slab_unreclaimable", G(ZoneStat.NrSlabUnreclaimable)), ("nr_isolated_anon", G(ZoneStat.NrIsolatedAnon)),
        ("nr_isolated_file", G(ZoneStat.NrIsolatedFile)), ("workingset_nodes", pageCache.ShadowNodes(pages)),
        ("workingset_refault_anon", E(VmEvent.WorkingsetRefaultAnon)), ("workingset_refault_file", G(ZoneStat.WorkingsetRefault)),
        ("workingset_activate_anon", E(VmEvent.WorkingsetActivateAnon)), ("workingset_activate_file", G(ZoneStat.WorkingsetActivate)),
        ("workingset_restore_anon", E(VmEvent.WorkingsetRestoreAnon)), ("workingset_restore_file", E(VmEvent.WorkingsetRestoreFile)),
        ("workingset_nodereclaim", G(ZoneStat.WorkingsetNodereclaim)), ("nr_anon_pages", G(ZoneStat.NrAnonPages)),
        ("nr_mapped", G(ZoneStat.NrMapped)), ("nr_file_pages", G(ZoneStat.NrFilePages)), ("nr_dirty", G(ZoneStat.NrDirty)),
        ("nr_writeback", G(ZoneStat.NrWriteback)), ("nr_writeback_temp", G(ZoneStat.NrWritebackTemp)), ("nr_shmem", G(ZoneStat.NrShmem)),
        ("nr_shmem_hugepages", 0), ("nr_shmem_pmdmapped", 0), ("nr_file_hugepages", 0), ("nr_file_pmdmapped", 0),
        ("nr_anon_transparent_hugepages", G(ZoneStat.NrAnonTransparentHugepages)), ("nr_vmscan_write", G(ZoneStat.NrVmscanWrite)),
        ("nr_vmscan_immediate_reclaim", G(ZoneStat.NrVmscanImmediate)), ("nr_dirtied", G(ZoneStat.NrDirtied)),
        ("nr_written", G(ZoneStat.NrWritten)), ("nr_throttled_written", reclaimState?.ThrottledWritten ?? 0), ("nr_kernel_misc_reclaimable", 0),
        ("nr_foll_pin_acquired", 0), ("nr_foll_pin_released", 0), ("nr_kernel_stack", G(ZoneStat.NrKernelStack)),
        ("nr_page_table_pages", G(ZoneStat.NrPageTablePages)), ("nr_sec_page_table_pages", 0), ("nr_swapcached", swap.SwapCachePages()),
        ("pgpromote_success", 0), ("pgpromote_candidate", 0),
    ];

    /// <summary>
    /// zoneinfo_show_print (6.1) for all five zone types, populated or not: the per-node stats on the first populated
    /// zone; pages free, boost, min, low, high (boosted), spanned, present, managed, cma; protection for every zone type;
    /// then, for a populated zone, its zone stat items, NUMA counters, the per-cpu pagesets with the vm stats threshold,
    /// node_unreclaimable and start_pfn.
    /// </summary>
    public override string Zoneinfo()
    {
        var sb = new StringBuilder();
        bool first = true;
        for (int idx = 0; idx < ZoneNames.Length; idx++)
        {
            var z = Node.Zones.FirstOrDefault(z => z.Name == ZoneNames[idx]);
            sb.Append($"Node 0, zone {ZoneNames[idx],8}");
            if (z is not null && first)
            {
                first = false;
                sb.Append("\n  per-node stats");
                foreach (var (name, value) in NodeItems()) sb.Append($"\n      {name,-12} {value}");
            }
            sb.Append($"\n  pages free     {z?.FreePages ?? 0}");
            sb.Append($"\n        boost    {z?.WatermarkBoost ?? 0}");
            sb.Append($"\n        min      {z?.WmarkPages(Zone.WmarkMin) ?? 0}");
            sb.Append($"\n        low      {z?.WmarkPages(Zone.WmarkLow) ?? 0}");
            sb.Append($"\n        high     {z?.WmarkPages(Zone.WmarkHigh) ?? 0}");
            sb.Append($"\n        spanned  {z?.SpannedPages ?? 0}");
            sb.Append($"\n        present  {z?.SpannedPages ?? 0}");
            sb.Append($"\n        managed  {z?.ManagedPages ?? 0}");
            sb.Append("\n        cma      0");
            var reserve = z?.LowmemReserve ?? [0];
            sb.Append("\n        protection: (");
            sb.Append(string.Join(", ", Enumerable.Range(0, ZoneNames.Length).Select(j => reserve[Math.Min(j, reserve.Length - 1)])));
            sb.Append(')');
            if (z is null)
            {
                sb.Append('\n');
                continue;
            }
            var zoneItems = new (string, long)[]
            {
                ("nr_free_pages", z.FreePages), ("nr_zone_inactive_anon", z.Stat[(int)ZoneStat.NrInactiveAnon]),
                ("nr_zone_active_anon", z.Stat[(int)ZoneStat.NrActiveAnon]), ("nr_zone_inactive_file", z.Stat[(int)ZoneStat.NrInactiveFile]),
                ("nr_zone_active_file", z.Stat[(int)ZoneStat.NrActiveFile]), ("nr_zone_unevictable", z.Stat[(int)ZoneStat.NrUnevictable]),
                ("nr_zone_write_pending", z.Stat[(int)ZoneStat.NrDirty] + z.Stat[(int)ZoneStat.NrWriteback]),
                ("nr_mlock", z.Stat[(int)ZoneStat.NrMlock]), ("nr_bounce", z.Stat[(int)ZoneStat.NrBounce]), ("nr_zspages", 0),
                ("nr_free_cma", z.Stat[(int)ZoneStat.NrFreeCmaPages]),
                ("numa_hit", buddy.NumaHit(z)), ("numa_miss", 0), ("numa_foreign", 0), ("numa_interleave", 0),
                ("numa_local", buddy.NumaHit(z)), ("numa_other", 0),
            };
            foreach (var (name, value) in zoneItems) sb.Append($"\n      {name,-12} {value}");
            sb.Append("\n  pagesets");
            for (int cpu = 0; cpu < Options.Cpus; cpu++)
            {
                // Without per-cpu lists, what zone_pcp_update set at boot: managed pages then (every present page) and
                // the low watermark without a boost (setup_per_zone_wmarks zeroes it).
                int batch = Math.Max(1, PerCpuPagesets.ZoneBatchsize(z.SpannedPages));
                var (count, high, b) = Pcp?.Pageset(z, cpu) ?? (0, PerCpuPagesets.ZoneHighsize(z.Watermark[Zone.WmarkLow], batch, Options.Cpus), batch);
                AppendPageset(sb, z, cpu, count, high, b);
            }
            sb.Append($"\n  node_unreclaimable:  {(reclaim.NodeUnreclaimable ? 1 : 0)}\n  start_pfn:           {z.StartPfn}\n");
        }
        return sb.ToString();
    }
}
