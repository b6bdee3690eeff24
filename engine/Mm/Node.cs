using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// <c>pg_data_t</c> for node 0: the zones of an x86-64 guest laid out over its memory. DMA below 16 MiB,
/// DMA32 below 4 GiB, Normal above (no holes, no PCI gap). The zonelist is the zones from the highest down.
/// </summary>
internal sealed class Node : ISnapshotState
{
    public const int DmaEndPfn = 16 << 8;        // 16 MiB
    public const int Dma32EndPfn = 4096 << 8;    // 4 GiB

    public Node(PageTable pages, PageLists lists, Scheduler scheduler, MigrateTypes types, ILruLists lruLists)
    {
        int n = pages.NrPages;
        var zones = new List<Zone>();
        void Add(string name, int start, int end)
        {
            if (end > start) zones.Add(new Zone(zones.Count, name, start, end, lists, scheduler, types));
        }
        Add("DMA", 0, Math.Min(n, DmaEndPfn));
        Add("DMA32", DmaEndPfn, Math.Min(n, Dma32EndPfn));
        Add("Normal", Dma32EndPfn, n);
        _zones = [.. zones];
        _zoneOfBlock = new byte[(n + Zone.PageblockNrPages - 1) >> Zone.PageblockOrder];
        foreach (var z in zones)
            for (int b = z.StartPfn >> Zone.PageblockOrder; b < (z.EndPfn + Zone.PageblockNrPages - 1) >> Zone.PageblockOrder; b++)
                _zoneOfBlock[b] = (byte)z.Index;
        _lruLists = lruLists;
        if (lruLists.NodeLruvec) UseNodeLruvec();
    }

    private readonly byte[] _zoneOfBlock;
    private readonly ILruLists _lruLists;

    /// <summary>The zones, lowest first (an array: <see cref="ZoneOf"/> runs for nearly every page operation).</summary>
    private readonly Zone[] _zones;

    public IReadOnlyList<Zone> Zones => _zones;

    /// <summary>Whether the LRU lists are the node's (<see cref="ILruLists.NodeLruvec"/>) rather than each zone's.</summary>
    public bool NodeLruvec => _lruLists.NodeLruvec;

    /// <summary>lruvec_init(&amp;pgdat-&gt;__lruvec) (v4.8 and later): one set of LRU lists and one lru_lock for the node.</summary>
    private void UseNodeLruvec()
    {
        for (int i = 1; i < Zones.Count; i++) Zones[i].ShareNodeLruvec(Zones[0]);
    }

    /// <summary>page_zone(): zones are pageblock aligned, so a table per pageblock is exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Zone ZoneOf(int pfn) => _zones[_zoneOfBlock[pfn >> Zone.PageblockOrder]];

    /// <summary>The zone with the most pages: where movable and user allocations land first.</summary>
    public Zone LargestZone => Zones.MaxBy(z => z.SpannedPages)!;

    /// <summary>The highest zone (first in the zonelist).</summary>
    public Zone HighestZone => Zones[^1];

    /// <summary>
    /// totalreserve_pages (v3.16's dirty_balance_reserve is the same sum), as <see cref="CalculateTotalreservePages"/> last
    /// left it: si_mem_available and global_dirtyable_memory read this value, not the zones' current managed pages.
    /// </summary>
    [NotState("set by boot's watermark and lowmem_reserve set-up, which nothing runs again")]
    public long TotalreservePages { get; private set; }

    /// <summary>
    /// si_mem_available (4.6+, mm/page_alloc.c; 6.1 counts the boost in the low watermarks: <paramref name="lowWmarkWithBoost"/>):
    /// <see cref="MemAvailable"/> with totalreserve_pages kept back (6.1 adds NR_KERNEL_MISC_RECLAIMABLE to the slab, 0 here).
    /// </summary>
    public long SiMemAvailable(bool lowWmarkWithBoost) => MemAvailable(TotalreservePages, LowWmarks(lowWmarkWithBoost));

    /// <summary>The zones' low watermarks added up, with their boost (<paramref name="withBoost"/>) or without.</summary>
    public long LowWmarks(bool withBoost) => Zones.Sum(z => withBoost ? z.WmarkPages(Zone.WmarkLow) : z.Watermark[Zone.WmarkLow]);

    /// <summary>
    /// MemAvailable's estimate, as 3.14 introduced it in meminfo_proc_show and 4.6 moved it to si_mem_available: free
    /// pages less <paramref name="reserved"/> (3.14–4.5 the low watermarks, 4.6 on totalreserve_pages), plus the file LRU
    /// and the reclaimable slab each less the smaller of half of it and <paramref name="wmarkLow"/>; at least 0.
    /// </summary>
    public long MemAvailable(long reserved, long wmarkLow)
    {
        long available = GlobalStat(ZoneStat.NrFreePages) - reserved;
        long pagecache = GlobalStat(ZoneStat.NrActiveFile) + GlobalStat(ZoneStat.NrInactiveFile);
        available += pagecache - Math.Min(pagecache / 2, wmarkLow);
        long reclaimable = GlobalStat(ZoneStat.NrSlabReclaimable);
        available += reclaimable - Math.Min(reclaimable / 2, wmarkLow);
        return Math.Max(0, available);
    }

    /// <summary>global_page_state / global_node_page_state: <paramref name="item"/> summed over the zones.</summary>
    public long GlobalStat(ZoneStat item)
    {
        long sum = 0;
        foreach (var z in Zones) sum += z.Stat[(int)item];
        return sum;
    }

    /// <summary>
    /// calculate_totalreserve_pages (v3.16, unchanged in 6.1), which __setup_per_zone_wmarks and
    /// setup_per_zone_lowmem_reserve end with: per zone its highest lowmem_reserve plus its high watermark, at most its
    /// managed pages. adjust_managed_page_count does not run it, so the pages the balloon takes out of managed_pages
    /// leave the reserve at its boot value.
    /// </summary>
    public void CalculateTotalreservePages() =>
        TotalreservePages = Zones.Sum(z => Math.Min(z.ManagedPages, z.LowmemReserve.DefaultIfEmpty(0).Max() + z.Watermark[Zone.WmarkHigh]));

    /// <summary>
    /// <c>pgdat-&gt;flags</c> (v4.8 moved the reclaim bits from the zone to the node: PGDAT_DIRTY, PGDAT_WRITEBACK, and
    /// the lruvec's LRUVEC_CONGESTED, kept here too), with the <see cref="ZoneFlags"/> values of the v3.16 zone bits.
    /// Only node reclaim (6.1) sets them.
    /// </summary>
    public ZoneFlags PgdatFlags { get; set; }

    public object Save() => (Zones.Select(z => z.Save()).ToArray(), PgdatFlags);

    public void Restore(object saved)
    {
        var (zones, flags) = ((object[], ZoneFlags))saved;
        for (int i = 0; i < zones.Length; i++) Zones[i].Restore(zones[i]);
        PgdatFlags = flags;
    }
}
