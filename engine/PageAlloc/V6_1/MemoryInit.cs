using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// Boot-time set-up of the 6.1 page allocator, in kernel order: every pageblock MOVABLE and all memory freed into the
/// buddy lists by __free_pages_core (FPI_TO_TAIL: each block at its list's tail); then init_per_zone_wmark_min:
/// calculate_min_free_kbytes (clamp 262144), setup_per_zone_wmarks (with <c>watermark_scale_factor</c>, then
/// zone_pcp_update for the per-cpu lists' high and batch), refresh_zone_stat_thresholds and
/// setup_per_zone_lowmem_reserve; on guests of 512 MiB or more khugepaged's raise of min_free_kbytes and
/// setup_per_zone_wmarks again. No pageblock is reserved
/// at boot (MIGRATE_RESERVE is gone; HIGHATOMIC blocks are taken on demand). docs/kernel/v6.1.md §2.2.
/// </summary>
internal static class MemoryInit
{
    /// <summary>watermark_scale_factor's default (sysctl vm.watermark_scale_factor, in 1/10000 of managed pages).</summary>
    public const int DefaultWatermarkScaleFactor = 10;

    /// <summary>calculate_min_free_kbytes' upper clamp in 6.1 (256 MiB).</summary>
    public const int MaxMinFreeKbytes = 262144;

    public static void Boot(Node node, BuddyAllocator buddy, PageLists lists, PerCpuPagesets? pcp, SimulationOptions options, VmStat vmstat)
    {
        foreach (var zone in node.Zones) FreeZone(zone, buddy, lists, vmstat);
        int minFreeKbytes = V3_16.MemoryInit.MinFreeKbytes(node, MaxMinFreeKbytes);
        SetupPerZoneWmarks(node, pcp, minFreeKbytes, options);
        StatThresholds.Refresh(node, options.Cpus);
        V3_16.MemoryInit.SetupPerZoneLowmemReserve(node);
        // hugepage_init (subsys_initcall, after init_per_zone_wmark_min's postcore one) → start_stop_khugepaged.
        if (V3_16.MemoryInit.ThpEnabledAtBoot(node))
            SetupPerZoneWmarks(node, pcp, V3_16.MemoryInit.RecommendedMinFreeKbytes(node, minFreeKbytes), options);
    }

    /// <summary>setup_per_zone_wmarks (6.1): __setup_per_zone_wmarks, then zone_pcp_update for each zone's per-cpu lists.</summary>
    private static void SetupPerZoneWmarks(Node node, PerCpuPagesets? pcp, int minFreeKbytes, SimulationOptions options)
    {
        SetupPerZoneWmarks(node, minFreeKbytes, options.WatermarkScaleFactor ?? DefaultWatermarkScaleFactor);
        if (pcp is not null) foreach (var zone in node.Zones) pcp.ZonePcpUpdate(zone);
    }

    /// <summary>
    /// memblock_free_all → __free_pages_core: the zone in the largest aligned blocks that fit, lowest PFN first, each to
    /// its list's tail through __free_pages_ok, which counts PGFREE (so pgfree starts at the pages boot freed).
    /// </summary>
    private static void FreeZone(Zone zone, BuddyAllocator buddy, PageLists lists, VmStat vmstat)
    {
        for (int pfn = zone.StartPfn; pfn < zone.EndPfn;)
        {
            int order = Zone.MaxOrder - 1;
            while (order > 0 && ((pfn & ((1 << order) - 1)) != 0 || pfn + (1 << order) > zone.EndPfn)) order--;
            lists.InitLinks(pfn); // __init_single_page's INIT_LIST_HEAD (memmap_init, 6.1) of the page about to be listed
            buddy.FreeOneBlock(zone, pfn, order, MigrateType.Movable, Fpi.ToTail);
            vmstat.Count(VmEvent.Pgfree, 1 << order);
            pfn += 1 << order;
        }
    }

    /// <summary>
    /// __setup_per_zone_wmarks (6.1): min = pages_min's share by managed pages; the distance between the marks is
    /// max(min / 4, managed × watermark_scale_factor / 10000); low = min + distance, high = low + distance; the boost
    /// is reset; then calculate_totalreserve_pages.
    /// </summary>
    public static void SetupPerZoneWmarks(Node node, int minFreeKbytes, int watermarkScaleFactor)
    {
        long pagesMin = minFreeKbytes >> 2;
        long lowmemPages = node.Zones.Sum(z => z.ManagedPages);
        foreach (var zone in node.Zones)
        {
            long min = pagesMin * zone.ManagedPages / lowmemPages;
            long distance = Math.Max(min >> 2, WatermarkBoost.MultFrac(zone.ManagedPages, watermarkScaleFactor, 10000));
            zone.WatermarkBoost = 0;
            zone.Watermark[Zone.WmarkMin] = min;
            zone.Watermark[Zone.WmarkLow] = min + distance;
            zone.Watermark[Zone.WmarkHigh] = min + 2 * distance;
        }
        node.CalculateTotalreservePages();
    }
}
