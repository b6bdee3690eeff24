using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// The per-cpu page lists of v3.16 mm/page_alloc.c (zone-&gt;pageset for every simulated CPU), registered only
/// with <see cref="SimulationOptions.PerCpuLists"/>: order-0 allocations come from the running CPU's list of the
/// migrate type (buffered_rmqueue / rmqueue_bulk), order-0 frees go there (free_hot_cold_page) and reach the
/// buddy lists in batches (free_pcppages_bulk). Pages on these lists are free (_count 0) but neither PageBuddy
/// nor in NR_FREE_PAGES. The buddy functions come in as the caller's BuddyAllocator argument, so the two
/// layers do not depend on each other at construction. All allocations and frees are hot (no __GFP_COLD).
/// <para>
/// A CPU's lists are touched only with its interrupts off (<c>local_irq_save</c> in buffered_rmqueue,
/// free_hot_cold_page and drain_pages); drain_all_pages reaches another CPU's lists by an IPI that runs drain_local_pages
/// there (<c>on_each_cpu_mask</c>), so never inside that CPU's section (<see cref="CpuSections"/>).
/// </para>
/// </summary>
internal sealed partial class PerCpuPagesets : IPerCpuPages, ISnapshotState
{
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly Node _node;
    private readonly Scheduler _scheduler;
    private readonly Sanitizer _sanitizer;
    /// <summary>[zone index][cpu], set up as setup_zone_pageset does after boot.</summary>
    private readonly PerCpuPages[][] _pagesets;
    [NotState("held only while a path has a CPU's interrupts off, within a run")]
    private readonly CpuSections _irqsOff;

    public PerCpuPagesets(PageTable pages, PageLists lists, Node node, Scheduler scheduler, Sanitizer sanitizer)
    {
        _sanitizer = sanitizer;
        _pages = pages;
        _lists = lists;
        _node = node;
        _scheduler = scheduler;
        _pagesets = node.Zones.Select(z => Enumerable.Range(0, scheduler.Cpus)
            .Select(_ => new PerCpuPages(lists, z.ManagedPages)).ToArray()).ToArray();
        _irqsOff = new CpuSections(scheduler, Enumerable.Range(0, scheduler.Cpus).Select(cpu => $"per-cpu lists of cpu{cpu} (irqs off)").ToArray());
    }

    public int Cpus => _scheduler.Cpus;

    /// <summary>Each list's count; the pages on the lists are in <see cref="PageLists"/>.</summary>
    public object Save() => _pagesets.Select(zone => zone.Select(pcp => pcp.Count).ToArray()).ToArray();

    public void Restore(object saved)
    {
        var counts = (int[][])saved;
        for (int z = 0; z < counts.Length; z++)
            for (int cpu = 0; cpu < counts[z].Length; cpu++) _pagesets[z][cpu].Count = counts[z][cpu];
    }

    /// <summary>per_cpu_ptr(zone-&gt;pageset, cpu)-&gt;pcp.</summary>
    public PerCpuPages Pcp(Zone zone, int cpu) => _pagesets[zone.Index][cpu];

    public (int Count, int High, int Batch) Pageset(Zone zone, int cpu)
    {
        var pcp = Pcp(zone, cpu);
        return (pcp.Count, pcp.High, pcp.Batch);
    }

    public (int Head, int Order)[] Lists(Zone zone, int cpu) => Pcp(zone, cpu).Lists.Select(h => (h, 0)).ToArray();

    public string? ListName(int head)
    {
        foreach (var zone in _node.Zones)
            for (int cpu = 0; cpu < Cpus; cpu++)
                for (int mt = 0; mt < MigrateType.PcpTypes; mt++)
                    if (Pcp(zone, cpu).Lists[mt] == head) return $"{zone.Name} pcp[cpu{cpu}].lists[{MigrateType.Names[mt]}]";
        return null;
    }

    /// <summary>
    /// The order-0 branch of buffered_rmqueue (v3.16), hot: refill an empty list with rmqueue_bulk(batch),
    /// then take its head. Returns the PFN (not yet prepared), or -1.
    /// </summary>
    [Preemptible]
    public int Rmqueue(BuddyAllocator buddy, Zone zone, int mt)
    {
        int cpu = _scheduler.Current.Cpu, pfn = -1;
        var pcp = Pcp(zone, cpu);
        int list = pcp.Lists[mt];
        _irqsOff.Enter(cpu, cpu);
        if (_lists.Empty(list)) pcp.Count += RmqueueBulk(buddy, zone, pcp.Batch, list, mt);
        if (!_lists.Empty(list))
        {
            pfn = _lists.Next(list);
            _lists.Del(pfn);
            pcp.Count--;
        }
        _irqsOff.Exit(cpu, cpu);
        return pfn;
    }

    /// <summary>
    /// rmqueue_bulk (v3.16): under zone-&gt;lock take up to <paramref name="count"/> pages with __rmqueue, each
    /// linked after the previous one (so the list keeps the order they came out in), and lower NR_FREE_PAGES by
    /// the number taken. __rmqueue has already recorded each page's freepage migratetype. Where __rmqueue_smallest
    /// would serve them, the pages of a block are taken at once (<see cref="FreeArea.RmqueueSmallestRun"/>).
    /// </summary>
    [Preemptible]
    private int RmqueueBulk(BuddyAllocator buddy, Zone zone, int count, int list, int mt)
    {
        zone.Lock.Lock();
        int i = 0, tail = list;
        while (i < count)
        {
            int taken = buddy.RmqueueSmallestRun(zone, mt, count - i, ref tail, list);
            if (taken > 0)
            {
                i += taken;
                continue;
            }
            int pfn = buddy.Rmqueue(zone, 0, mt);
            if (pfn < 0) break;
            _lists.Add(pfn, tail);
            tail = pfn;
            i++;
        }
        zone.Stat.Add((int)ZoneStat.NrFreePages, -i);
        zone.Lock.Unlock();
        return i;
    }

    /// <summary>
    /// free_hot_cold_page (v3.16), after free_pages_prepare and set_freepage_migratetype(pageblock type):
    /// ISOLATE pages go straight to the buddy; RESERVE pages go on the MOVABLE list (keeping their freepage type);
    /// the page is added at the head, or at the tail when <paramref name="cold"/> (reclaim's batches); at <c>high</c> a
    /// batch is returned with free_pcppages_bulk.
    /// </summary>
    [Preemptible]
    public void FreeHotColdPage(BuddyAllocator buddy, Zone zone, int pfn, int mt, bool cold)
    {
        if (mt >= MigrateType.PcpTypes)
        {
            if (mt == MigrateType.Isolate)
            {
                buddy.FreeOnePage(zone, pfn, 0, mt);
                return;
            }
            mt = MigrateType.Movable;
        }
        int cpu = _scheduler.Current.Cpu;
        var pcp = Pcp(zone, cpu);
        _irqsOff.Enter(cpu, cpu);
        _lists.Add(pfn, pcp.Lists[mt], tail: cold);
        pcp.Count++;
        if (pcp.Count >= pcp.High)
        {
            int batch = pcp.Batch;
            FreePcppagesBulk(buddy, zone, batch, pcp);
            pcp.Count -= batch;
        }
        _irqsOff.Exit(cpu, cpu);
    }

    /// <summary>
    /// free_pcppages_bulk (v3.16): under zone-&gt;lock free <paramref name="count"/> pages round-robin over the
    /// three lists (starting after UNMOVABLE), taking from each non-empty list found as many pages as lists were
    /// visited to find it (all the rest once all three had to be visited), from the tail, each through
    /// __free_one_page with its freepage migratetype; NR_FREE_PAGES rises per page unless its pageblock is ISOLATE, and
    /// <c>zone-&gt;pages_scanned</c> is zeroed as in free_one_page. The caller lowers <c>count</c>. Where the kernel
    /// would spin forever (<c>count</c> above what the lists hold, after a corruption), the mismatch is reported as
    /// accounting and the drain stops.
    /// </summary>
    [Preemptible]
    private void FreePcppagesBulk(BuddyAllocator buddy, Zone zone, int count, PerCpuPages pcp)
    {
        int migratetype = 0, batchFree = 0, toFree = count;
        zone.Lock.Lock();
        zone.PagesScanned = 0;
        while (toFree > 0)
        {
            int list, looked = 0;
            do
            {
                if (looked++ == MigrateType.PcpTypes)
                {
                    _sanitizer.Report(ReportKind.Accounting, -1,
                        $"free_pcppages_bulk: {toFree} of {count} pages still to free, but every per-cpu list of zone {zone.Name} is empty");
                    zone.Lock.Unlock();
                    return;
                }
                batchFree++;
                if (++migratetype == MigrateType.PcpTypes) migratetype = 0;
                list = pcp.Lists[migratetype];
            } while (_lists.Empty(list));
            if (batchFree == MigrateType.PcpTypes) batchFree = toFree;
            do
            {
                int pfn = _lists.Prev(list);
                _lists.Del(pfn);
                buddy.FreeOneBlock(zone, pfn, 0, _pages.Index[pfn]);
                if (zone.GetPageblockMigratetype(pfn) != MigrateType.Isolate) zone.Stat.Add((int)ZoneStat.NrFreePages, 1);
            } while (--toFree > 0 && --batchFree > 0 && !_lists.Empty(list));
        }
        zone.Lock.Unlock();
    }

    /// <summary>
    /// drain_pages (v3.16): return every page on <paramref name="cpu"/>'s lists, zone by zone (the running CPU's, or, for
    /// drain_all_pages, another's as the IPI's drain_local_pages would, outside that CPU's section). One section for all
    /// zones: v3.16 saves interrupts per zone, but the IPI handler runs the whole drain with them off, and a local drain
    /// interleaved with a remote one between two zones ends as either order would.
    /// </summary>
    [Preemptible]
    public void DrainPages(BuddyAllocator buddy, int cpu)
    {
        _irqsOff.Enter(cpu, cpu);
        foreach (var zone in _node.Zones)
        {
            var pcp = Pcp(zone, cpu);
            if (pcp.Count == 0) continue;
            FreePcppagesBulk(buddy, zone, pcp.Count, pcp);
            pcp.Count = 0;
        }
        _irqsOff.Exit(cpu, cpu);
    }
}
