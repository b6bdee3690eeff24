using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// Boot-time set-up of the page allocator, in kernel order: free all memory into the buddy lists
/// (free_all_bootmem, every pageblock MOVABLE), then init_per_zone_wmark_min: min_free_kbytes,
/// setup_per_zone_wmarks (with setup_zone_migrate_reserve), refresh_zone_stat_thresholds,
/// setup_per_zone_lowmem_reserve and setup_per_zone_inactive_ratio (v3.16 page_alloc.c); then, on guests of 512 MiB or
/// more, khugepaged's raise of min_free_kbytes.
/// </summary>
internal static class MemoryInit
{
    /// <summary>sysctl_lowmem_reserve_ratio for DMA, DMA32, Normal.</summary>
    private static readonly int[] LowmemReserveRatio = [256, 256, 32];

    public static void Boot(Node node, BuddyAllocator buddy, PageLists lists, VmStat vmstat, int cpus)
    {
        foreach (var zone in node.Zones) FreeZone(zone, buddy, lists, vmstat);
        int minFreeKbytes = MinFreeKbytes(node);
        SetupPerZoneWmarks(node, buddy, minFreeKbytes);
        StatThresholds.Refresh(node, cpus);
        SetupPerZoneLowmemReserve(node);
        SetupPerZoneInactiveRatio(node);
        // hugepage_init → start_khugepaged (module_init like init_per_zone_wmark_min; huge_memory.o links after
        // page_alloc.o): the THP raise, setup_per_zone_wmarks alone, the stat thresholds left as they were.
        if (ThpEnabledAtBoot(node)) SetupPerZoneWmarks(node, buddy, RecommendedMinFreeKbytes(node, minFreeKbytes));
    }

    /// <summary>
    /// hugepage_init (v3.16, the same in 6.1) leaves transparent hugepages on, and khugepaged started, only when
    /// totalram_pages is at least 512 MiB ("disable transparent hugepages on smaller systems").
    /// </summary>
    public static bool ThpEnabledAtBoot(Node node) => node.Zones.Sum(z => z.ManagedPages) >= 512L << (20 - 12);

    /// <summary>
    /// set_recommended_min_free_kbytes (v3.16 huge_memory.c; the same formula in 6.1 khugepaged.c), which
    /// start_khugepaged runs when THP is on: two pageblocks per populated zone, plus MIGRATE_PCPTYPES² (9) more, at most
    /// 5 % of nr_free_buffer_pages, in KiB; it replaces <paramref name="minFreeKbytes"/> if larger (then
    /// setup_per_zone_wmarks runs again).
    /// </summary>
    public static int RecommendedMinFreeKbytes(Node node, int minFreeKbytes)
    {
        const int MigratePcptypes = 3;
        long nrZones = node.Zones.Count(z => z.ManagedPages > 0);
        long recommended = Zone.PageblockNrPages * nrZones * 2 + Zone.PageblockNrPages * nrZones * MigratePcptypes * MigratePcptypes;
        recommended = Math.Min(recommended, NrFreeBufferPages(node) / 20) << 2;
        return (int)Math.Max(recommended, minFreeKbytes);
    }

    /// <summary>nr_free_buffer_pages: Σ over the zones of their managed pages above the high watermark.</summary>
    private static long NrFreeBufferPages(Node node) => node.Zones.Sum(z => Math.Max(0, z.ManagedPages - z.Watermark[Zone.WmarkHigh]));

    /// <summary>
    /// calculate_zone_inactive_ratio (v3.16): the inactive anon list is kept at least 1/ratio of the active one,
    /// ratio = int_sqrt(10 × managed GiB), 1 below 1 GiB. v3.16 reclaim reads it (6.1 computes its ratio from the list
    /// sizes instead, inactive_is_low).
    /// </summary>
    private static void SetupPerZoneInactiveRatio(Node node)
    {
        foreach (var zone in node.Zones)
        {
            long gb = zone.ManagedPages >> 18;
            zone.InactiveRatio = gb > 0 ? (int)Math.Sqrt(10.0 * gb) : 1;
        }
    }

    /// <summary>
    /// Free the zone in the largest aligned blocks that fit, lowest PFN first: __free_pages_bootmem → __free_pages, which
    /// counts PGFREE as any free does (so pgfree starts at the pages boot gave the buddy allocator).
    /// </summary>
    private static void FreeZone(Zone zone, BuddyAllocator buddy, PageLists lists, VmStat vmstat)
    {
        for (int pfn = zone.StartPfn; pfn < zone.EndPfn;)
        {
            int order = Zone.MaxOrder - 1;
            while (order > 0 && ((pfn & ((1 << order) - 1)) != 0 || pfn + (1 << order) > zone.EndPfn)) order--;
            lists.InitLinks(pfn); // memmap_init_zone's INIT_LIST_HEAD of the page about to be listed (PageLists.InitLinks)
            buddy.FreeOneBlock(zone, pfn, order, MigrateType.Movable);
            zone.Stat.Add((int)ZoneStat.NrFreePages, 1 << order);
            vmstat.Count(VmEvent.Pgfree, 1 << order);
            pfn += 1 << order;
        }
    }

    /// <summary>
    /// init_per_zone_wmark_min: int_sqrt(lowmem_kbytes * 16), clamped to [128, <paramref name="max"/>] (65536 in v3.16,
    /// 262144 in 6.1), where lowmem_kbytes is nr_free_buffer_pages() (Σ managed pages above the high watermark; at boot
    /// the watermarks are still 0).
    /// </summary>
    public static int MinFreeKbytes(Node node, int max = 65536)
    {
        long lowmemKbytes = NrFreeBufferPages(node) * 4;
        int kb = (int)Math.Sqrt(lowmemKbytes * 16.0);
        while ((long)(kb + 1) * (kb + 1) <= lowmemKbytes * 16) kb++;
        while ((long)kb * kb > lowmemKbytes * 16) kb--;
        return Math.Clamp(kb, 128, max);
    }

    /// <summary>
    /// __setup_per_zone_wmarks: min share by managed pages; low = min + min/4; high = min + min/2; NR_ALLOC_BATCH set to
    /// high − low (the kernel adds high − low − the batch left, read as no less than 0: the same at boot, when nothing has
    /// spent it); the migrate reserve; then calculate_totalreserve_pages.
    /// </summary>
    private static void SetupPerZoneWmarks(Node node, BuddyAllocator buddy, int minFreeKbytes)
    {
        long pagesMin = minFreeKbytes >> 2;
        long lowmemPages = node.Zones.Sum(z => z.ManagedPages);
        foreach (var zone in node.Zones)
        {
            long tmp = pagesMin * zone.ManagedPages / lowmemPages;
            zone.Watermark[Zone.WmarkMin] = tmp;
            zone.Watermark[Zone.WmarkLow] = tmp + (tmp >> 2);
            zone.Watermark[Zone.WmarkHigh] = tmp + (tmp >> 1);
            zone.Stat.Set((int)ZoneStat.NrAllocBatch, zone.Watermark[Zone.WmarkHigh] - zone.Watermark[Zone.WmarkLow]);
            SetupZoneMigrateReserve(zone, buddy);
        }
        node.CalculateTotalreservePages();
    }

    /// <summary>
    /// setup_zone_migrate_reserve (v3.16): the first min(2, roundup(min_wmark, pageblock)/pageblock)
    /// MOVABLE pageblocks of the zone become MIGRATE_RESERVE, their free pages moved along.
    /// </summary>
    private static void SetupZoneMigrateReserve(Zone zone, BuddyAllocator buddy)
    {
        int startPfn = (zone.StartPfn + Zone.PageblockNrPages - 1) & ~(Zone.PageblockNrPages - 1);
        long reserve = Math.Min(2, (zone.Watermark[Zone.WmarkMin] + Zone.PageblockNrPages - 1) >> Zone.PageblockOrder);
        for (int pfn = startPfn; pfn < zone.EndPfn && reserve > 0; pfn += Zone.PageblockNrPages)
        {
            int mt = zone.GetPageblockMigratetype(pfn);
            if (mt == MigrateType.Reserve) { reserve--; continue; }
            if (mt != MigrateType.Movable) continue;
            zone.SetPageblockMigratetype(pfn, MigrateType.Reserve);
            buddy.MoveFreepagesBlock(zone, pfn, MigrateType.Reserve);
            reserve--;
        }
    }

    /// <summary>
    /// setup_per_zone_lowmem_reserve: zone i keeps (managed pages of zones i+1..j) / ratio[i] from classzone j (the same
    /// in 6.1, whose ratio for ZONE_MOVABLE, 0, concerns no zone here); then calculate_totalreserve_pages.
    /// </summary>
    internal static void SetupPerZoneLowmemReserve(Node node)
    {
        var zones = node.Zones;
        foreach (var z in zones) z.LowmemReserve = new long[zones.Count];
        for (int j = 0; j < zones.Count; j++)
        {
            long managed = zones[j].ManagedPages;
            for (int i = j - 1; i >= 0; i--)
            {
                int ratio = Math.Max(1, LowmemReserveRatio[Math.Min(i, LowmemReserveRatio.Length - 1)]);
                zones[i].LowmemReserve[j] = managed / ratio;
                managed += zones[i].ManagedPages;
            }
        }
        node.CalculateTotalreservePages();
    }
}
