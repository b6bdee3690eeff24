using System.Text;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// The text of /proc/buddyinfo, /proc/pagetypeinfo, /proc/vmstat, /proc/zoneinfo and the debugfs extfrag files,
/// byte for byte as v3.16 mm/vmstat.c prints them for node 0 (a kernel without CONFIG_NUMA; x86-64 has four zone
/// types, DMA, DMA32, Normal, Movable, of which the empty ones are not printed). Later kernels' text
/// (Vmstat/V4_8, Vmstat/V6_1) keeps what did not change and overrides the rest. The pagetypeinfo columns are the
/// page allocator's migratetypes (<see cref="Zone.Types"/>).
/// </summary>
internal class ProcText(Node node, PageLists lists, VmStat vmstat, SimulationOptions options, Reclaim.ZoneReclaimable reclaimable,
    Writeback writeback, PageAlloc.IPerCpuPages? pcp = null)
{
    protected Node Node => node;
    protected PageLists Lists => lists;
    protected VmStat VmStat => vmstat;
    protected SimulationOptions Options => options;
    protected Reclaim.ZoneReclaimable Reclaimable => reclaimable;
    protected PageAlloc.IPerCpuPages? Pcp => pcp;
    /// <summary>global_dirty_limits (v3.16: <see cref="Writeback.GlobalDirtyLimits"/>), for the two thresholds /proc/vmstat prints.</summary>
    protected virtual (long Background, long Dirty) GlobalDirtyLimits() => writeback.GlobalDirtyLimits();

    /// <summary>The writeback part, for a later version's dirty limits.</summary>
    protected Writeback Writeback => writeback;

    /// <summary>MAX_NR_ZONES on x86-64.</summary>
    private const int MaxNrZones = 4;
    /// <summary>frag_show_print: <c>"Node %d, zone %8s "</c> then <c>"%6lu "</c> per order.</summary>
    public string Buddyinfo()
    {
        var sb = new StringBuilder();
        foreach (var z in node.Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int o = 0; o < Zone.MaxOrder; o++) sb.Append($"{z.NrFree[o],6} ");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>pagetypeinfo_show: header, free list lengths per type and order, pageblock counts per type.</summary>
    public string Pagetypeinfo()
    {
        var sb = new StringBuilder();
        sb.Append($"Page block order: {Zone.PageblockOrder}\n");
        sb.Append($"Pages per block:  {Zone.PageblockNrPages}\n\n");
        sb.Append($"{"Free pages count per migrate type at order",-43} ");
        for (int o = 0; o < Zone.MaxOrder; o++) sb.Append($"{o,6} ");
        sb.Append('\n');
        foreach (var z in node.Zones)
            for (int mt = 0; mt < z.Types.Count; mt++)
            {
                sb.Append($"Node {0,4}, zone {z.Name,8}, type {z.Types.Names[mt],12} ");
                for (int o = 0; o < Zone.MaxOrder; o++) sb.Append(FreeCount(z.FreeList(o, mt)));
                sb.Append('\n');
            }
        var types = node.Zones[0].Types;
        sb.Append($"\n{"Number of blocks type ",-23}");
        for (int mt = 0; mt < types.Count; mt++) sb.Append($"{types.Names[mt],12} ");
        sb.Append('\n');
        foreach (var z in node.Zones)
        {
            var count = new long[types.Count];
            foreach (byte mt in z.PageblockMigratetype) count[mt]++;
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int mt = 0; mt < types.Count; mt++) sb.Append($"{count[mt],12} ");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>One cell of pagetypeinfo's free counts: the length of the free list <paramref name="head"/>, <c>"%6lu "</c>.</summary>
    protected virtual string FreeCount(int head) => $"{lists.Count(head, PagetypeinfoWalker),6} ";

    /// <summary>How pagetypeinfo's list walks name themselves in a list_corruption report.</summary>
    protected const string PagetypeinfoWalker = "pagetypeinfo_showfree_print";

    /// <summary>
    /// zone_page_state / global_page_state on SMP: a counter below zero reads as 0 (v3.16 vmstat.h). Only NR_ALLOC_BATCH
    /// goes below zero here (buffered_rmqueue spends it past 0).
    /// </summary>
    protected static long NotBelowZero(long x) => Math.Max(0, x);

    /// <summary>
    /// vmstat_show: every zone_stat_item summed over zones (each read as global_page_state, so not below 0), the two writeback thresholds (global_dirty_limits with
    /// dirty_ratio 20 and dirty_background_ratio 10), then the vm events as shown (<see cref="VmStat.Shown"/>: pgpgin/pgpgout halved, sectors to KiB).
    /// The balloon events are printed by designs whose balloon code has them (v3.18 on); the events later kernels added
    /// by none (v4.8's text adds compact_daemon_wake: <see cref="V4_8.ProcText"/>).
    /// </summary>
    public virtual string Vmstat()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < (int)ZoneStat.Count; i++) sb.Append(ZoneStats.Names[i]).Append(' ').Append(NotBelowZero(vmstat.Global((ZoneStat)i))).Append('\n');
        var (background, dirty) = GlobalDirtyLimits();
        sb.Append("nr_dirty_threshold ").Append(dirty).Append('\n');
        sb.Append("nr_dirty_background_threshold ").Append(background).Append('\n');
        bool balloonEvents = options.Design.Parts.BalloonIdentity != Designs.PartVersion.V3_16;
        for (int e = 0; e < (int)VmEvent.Count; e++)
        {
            var ev = (VmEvent)e;
            if (ev >= VmEvent.OomKill) break; // the events later kernels added
            if (!balloonEvents && ev is VmEvent.BalloonInflate or VmEvent.BalloonDeflate or VmEvent.BalloonMigrate) continue;
            sb.Append(VmEvents.Names[e]).Append(' ').Append(vmstat.Shown(ev)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// zoneinfo_show_print (v3.16): per populated zone the free pages and watermarks, pages_scanned, spanned /
    /// present / managed, every zone counter (zone_page_state: not below 0), the lowmem protection for each of the four zone types, the per-cpu
    /// pagesets with the vm stats threshold, whether reclaim gave up on it, its start pfn and inactive_ratio.
    /// </summary>
    public virtual string Zoneinfo()
    {
        var sb = new StringBuilder();
        foreach (var z in node.Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8}");
            sb.Append($"\n  pages free     {z.FreePages}");
            sb.Append($"\n        min      {z.Watermark[Zone.WmarkMin]}");
            sb.Append($"\n        low      {z.Watermark[Zone.WmarkLow]}");
            sb.Append($"\n        high     {z.Watermark[Zone.WmarkHigh]}");
            sb.Append($"\n        scanned  {z.PagesScanned}");
            sb.Append($"\n        spanned  {z.SpannedPages}");
            sb.Append($"\n        present  {z.SpannedPages}");
            sb.Append($"\n        managed  {z.ManagedPages}");
            for (int i = 0; i < (int)ZoneStat.Count; i++) sb.Append($"\n    {ZoneStats.Names[i],-12} {NotBelowZero(z.Stat[i])}");
            var reserve = z.LowmemReserve;
            sb.Append("\n        protection: (");
            sb.Append(string.Join(", ", Enumerable.Range(0, MaxNrZones).Select(j => reserve[Math.Min(j, reserve.Length - 1)])));
            sb.Append(")\n  pagesets");
            for (int cpu = 0; cpu < options.Cpus; cpu++)
            {
                // Without per-cpu lists, what setup_zone_pageset set at boot, from the managed pages then (every present page).
                int bootBatch = PageAlloc.V3_16.PerCpuPages.ZoneBatchsize(z.SpannedPages);
                var (count, high, batch) = pcp?.Pageset(z, cpu) ?? (0, 6 * bootBatch, Math.Max(1, bootBatch));
                AppendPageset(sb, z, cpu, count, high, batch);
            }
            bool unreclaimable = !reclaimable.Reclaimable(z);
            sb.Append($"\n  all_unreclaimable: {(unreclaimable ? 1 : 0)}\n  start_pfn:         {z.StartPfn}\n  inactive_ratio:    {z.InactiveRatio}\n");
        }
        return sb.ToString();
    }

    /// <summary>One CPU's pageset of zoneinfo: count, high, batch and the vm stats threshold (the same text in 6.1).</summary>
    protected void AppendPageset(StringBuilder sb, Zone z, int cpu, int count, int high, int batch)
    {
        sb.Append($"\n    cpu: {cpu}\n              count: {count}\n              high:  {high}\n              batch: {batch}");
        sb.Append($"\n  vm stats threshold: {z.StatThreshold}");
    }

    /// <summary>/sys/kernel/debug/extfrag/extfrag_index (extfrag_show_print: <c>"%d.%03d "</c> per order).</summary>
    public virtual string ExtfragIndex() => PerOrder(Fragmentation.ZoneIndex);

    /// <summary>/sys/kernel/debug/extfrag/unusable_index.</summary>
    public string UnusableIndex() => PerOrder(Fragmentation.ZoneUnusable);

    /// <summary>One line per zone: its index at each order, as <see cref="Fragmentation.Format"/> prints it with <paramref name="width"/>.</summary>
    protected string PerOrder(Func<Zone, int, int> index, int width = 1)
    {
        var sb = new StringBuilder();
        foreach (var z in node.Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int o = 0; o < Zone.MaxOrder; o++) sb.Append(Fragmentation.Format(index(z, o), width)).Append(' ');
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
