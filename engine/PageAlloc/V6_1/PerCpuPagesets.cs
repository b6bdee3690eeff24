using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// The per-cpu page lists of 6.1 mm/page_alloc.c (<c>zone-&gt;per_cpu_pageset</c> for every simulated CPU), registered only
/// with <see cref="SimulationOptions.PerCpuLists"/>: orders 0–3 and pageblock order are allocated from the running CPU's
/// list (rmqueue_pcplist, refilled by rmqueue_bulk with <c>batch</c> scaled down by the order) and freed to it
/// (free_unref_page); past <c>nr_pcp_high</c> a free returns <c>nr_pcp_free</c> pages from the lists' tails, round-robin
/// from the list just freed to (free_pcppages_bulk). Pages on these lists are free (_count 0) but neither PageBuddy nor in
/// NR_FREE_PAGES. The buddy functions come in as the caller's BuddyAllocator argument. docs/kernel/v6.1.md §2.5, §2.7.
/// <para>
/// Each pageset has its lock (<c>pcp-&gt;lock</c>, 6.0's "remotely drain per-cpu lists"): the running CPU takes its own
/// with a trylock (rmqueue_pcplist falls back to rmqueue_buddy, free_unref_page to free_one_page, when a drain holds
/// it), drain_pages_zone takes any CPU's with spin_lock_irqsave, so drain_all_pages drains other CPUs' lists from the
/// calling CPU (<see cref="CpuSections"/>; the lock is not a preemption point of its own: uncontended, the schedules are
/// those of the lists without it).
/// </para>
/// </summary>
internal sealed partial class PerCpuPagesets : IPerCpuPages, ISnapshotState
{
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly Node _node;
    private readonly Scheduler _scheduler;
    private readonly VmStat _vmstat;
    private readonly Sanitizer _sanitizer;
    /// <summary>[zone index][cpu].</summary>
    private readonly PerCpuPages[][] _pagesets;
    /// <summary>Each pageset's pcp-&gt;lock, numbered zone index × CPUs + cpu.</summary>
    [NotState("held only while a path has a pageset locked, within a run")]
    private readonly CpuSections _pcpLocks;

    /// <summary>pcpu_drain_mutex: one drain of every CPU's lists at a time (<see cref="DrainAllPages"/>).</summary>
    private readonly SimLock _drainMutex;

    public PerCpuPagesets(PageTable pages, PageLists lists, Node node, Scheduler scheduler, VmStat vmstat, Sanitizer sanitizer)
    {
        _sanitizer = sanitizer;
        _pages = pages;
        _lists = lists;
        _node = node;
        _scheduler = scheduler;
        _vmstat = vmstat;
        _pagesets = node.Zones.Select(_ => Enumerable.Range(0, scheduler.Cpus).Select(_ => new PerCpuPages(lists)).ToArray()).ToArray();
        _pcpLocks = new CpuSections(scheduler, node.Zones.SelectMany(z => Enumerable.Range(0, scheduler.Cpus)
            .Select(cpu => $"zone {z.Name} pcp->lock of cpu{cpu}")).ToArray());
        _drainMutex = new SimLock(scheduler, "pcpu_drain_mutex");
    }

    public int Cpus => _scheduler.Cpus;

    /// <summary>
    /// Each pageset's count, free_factor, high and batch (the pages on the lists are in <see cref="PageLists"/>), and the
    /// drain mutex's owner (free between operations, but a run aborted on a deadlock can leave it held).
    /// </summary>
    public object Save() =>
        (_pagesets.Select(zone => zone.Select(p => new[] { p.Count, p.FreeFactor, p.High, p.Batch }).ToArray()).ToArray(), _drainMutex.Save());

    public void Restore(object saved)
    {
        var (all, drainMutex) = ((int[][][], object))saved;
        _drainMutex.Restore(drainMutex);
        for (int z = 0; z < all.Length; z++)
            for (int cpu = 0; cpu < all[z].Length; cpu++)
            {
                var p = _pagesets[z][cpu];
                (p.Count, p.FreeFactor, p.High, p.Batch) = (all[z][cpu][0], all[z][cpu][1], all[z][cpu][2], all[z][cpu][3]);
            }
    }

    /// <summary>per_cpu_ptr(zone-&gt;per_cpu_pageset, cpu).</summary>
    public PerCpuPages Pcp(Zone zone, int cpu) => _pagesets[zone.Index][cpu];

    public (int Count, int High, int Batch) Pageset(Zone zone, int cpu)
    {
        var p = Pcp(zone, cpu);
        return (p.Count, p.High, p.Batch);
    }

    public (int Head, int Order)[] Lists(Zone zone, int cpu) =>
        Pcp(zone, cpu).Lists.Select((head, pindex) => (head, PerCpuPages.PindexToOrder(pindex))).ToArray();

    public string? ListName(int head)
    {
        foreach (var zone in _node.Zones)
            for (int cpu = 0; cpu < Cpus; cpu++)
            {
                int pindex = Array.IndexOf(Pcp(zone, cpu).Lists, head);
                if (pindex < 0) continue;
                string type = pindex == PerCpuPages.NrLoworderPcpLists ? "thp" : MigrateType.Names[pindex % MigrateType.PcpTypes];
                return $"{zone.Name} pcp[cpu{cpu}].lists[order {PerCpuPages.PindexToOrder(pindex)}, {type}]";
            }
        return null;
    }

    private int PcpLock(Zone zone, int cpu) => zone.Index * Cpus + cpu;

    /// <summary>
    /// rmqueue_pcplist + __rmqueue_pcplist (6.1): halve free_factor; if the (order, type) list is empty, refill it with
    /// rmqueue_bulk of <c>batch</c> blocks (scaled to max(batch &gt;&gt; order, 2) when batch &gt; 1); take the head block. A
    /// block failing check_new_pcp is leaked and the next taken; one that comes back could not be unlinked (list_del
    /// refused a corrupted list, already reported), where the kernel would retry it forever: the allocation fails
    /// instead. The first PFN (prepared), or -1 (also when a drain holds the pageset's lock: pcp_spin_trylock_irqsave).
    /// </summary>
    [Preemptible]
    public int RmqueuePcplist(BuddyAllocator buddy, Zone zone, int order, int mt, int allocFlags)
    {
        int cpu = _scheduler.Current.Cpu, pcpLock = PcpLock(zone, cpu);
        if (!_pcpLocks.TryEnter(pcpLock)) return -1;
        int page = RmqueuePcplist(buddy, zone, Pcp(zone, cpu), order, mt, allocFlags);
        _pcpLocks.Exit(pcpLock, cpu);
        return page;
    }

    [Preemptible]
    private int RmqueuePcplist(BuddyAllocator buddy, Zone zone, PerCpuPages pcp, int order, int mt, int allocFlags)
    {
        pcp.FreeFactor >>= 1;
        int list = pcp.Lists[PerCpuPages.OrderToPindex(mt, order)];
        for (int bad = -1; ; )
        {
            if (_lists.Empty(list))
            {
                int batch = pcp.Batch;
                if (batch > 1) batch = Math.Max(batch >> order, 2);
                pcp.Count += RmqueueBulk(buddy, zone, order, batch, list, mt, allocFlags) << order;
                if (_lists.Empty(list)) return -1;
            }
            int page = _lists.Next(list);
            if (page == bad) return -1;
            _lists.Del(page);
            pcp.Count -= 1 << order;
            if (buddy.Checks.PrepNewPage(page, order)) return page;
            bad = page;
        }
    }

    /// <summary>
    /// rmqueue_bulk (6.1): under zone-&gt;lock up to <paramref name="count"/> blocks by __rmqueue, each added at the list's
    /// tail (physical order); NR_FREE_PAGES drops by what was taken. Returns the blocks taken. Order-0 pages that
    /// __rmqueue_smallest would serve are taken a block at a time (<see cref="FreeArea.RmqueueSmallestRun"/>).
    /// </summary>
    [Preemptible]
    private int RmqueueBulk(BuddyAllocator buddy, Zone zone, int order, int count, int list, int mt, int allocFlags)
    {
        zone.Lock.Lock();
        int i = 0;
        while (i < count)
        {
            int tail = order == 0 && !_lists.Tracking ? _lists.Prev(list) : -1;
            int taken = tail >= 0 ? buddy.RmqueueSmallestRun(zone, mt, count - i, ref tail, list) : 0;
            if (taken > 0)
            {
                i += taken;
                continue;
            }
            int page = buddy.RmqueueLocked(zone, order, mt, allocFlags);
            if (page < 0) break;
            _lists.AddTail(page, list);
            i++;
        }
        zone.Stat.Add((int)ZoneStat.NrFreePages, -((long)i << order));
        zone.Lock.Unlock();
        return i;
    }

    /// <summary>
    /// free_unref_page (6.1), after free_unref_page_prepare recorded the pageblock's type as the page's pcp migratetype:
    /// ISOLATE goes straight to free_one_page; HIGHATOMIC (and CMA) pages go on the MOVABLE list, keeping their type.
    /// When a drain holds the pageset's lock, free_one_page with the type as overwritten above (HIGHATOMIC and CMA as
    /// MOVABLE); no PGFREE on that path, as on the ISOLATE one: free_one_page takes zone-&gt;lock and frees, counting
    /// nothing, PGFREE being counted in free_unref_page_commit and after __free_pages_ok's own free (all read in the
    /// 6.0–6.1 page_alloc.c of the index, id 674591).
    /// </summary>
    // Never inlined: put_page inlined it with everything below it, ran out of the JIT's inlining budget and called the list
    // primitives' one-line helpers (11 calls a free); compiled on its own it inlines them (the order-0 pair 61 → 54 ns).
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void FreeUnrefPage(BuddyAllocator buddy, Zone zone, int pfn, int order, int mt)
    {
        if (mt == MigrateType.Isolate)
        {
            buddy.FreeOnePage(zone, pfn, order, mt);
            return;
        }
        int pcpMt = mt >= MigrateType.PcpTypes ? MigrateType.Movable : mt;
        int cpu = _scheduler.Current.Cpu, pcpLock = PcpLock(zone, cpu);
        if (!_pcpLocks.TryEnter(pcpLock))
        {
            buddy.FreeOnePage(zone, pfn, order, pcpMt);
            return;
        }
        FreeUnrefPageCommit(buddy, zone, Pcp(zone, cpu), pfn, pcpMt, order);
        _pcpLocks.Exit(pcpLock, cpu);
    }

    /// <summary>
    /// free_unref_page_commit (6.1): PGFREE; the block at the head of its list; count up; at nr_pcp_high (0 while
    /// freeing low-order pages in a run: free_high) free_pcppages_bulk of nr_pcp_free pages, this list first.
    /// </summary>
    [Preemptible]
    private void FreeUnrefPageCommit(BuddyAllocator buddy, Zone zone, PerCpuPages pcp, int pfn, int mt, int order)
    {
        _vmstat.Count(VmEvent.Pgfree, 1 << order);
        int pindex = PerCpuPages.OrderToPindex(mt, order);
        _lists.Add(pfn, pcp.Lists[pindex]);
        pcp.Count += 1 << order;
        bool freeHigh = pcp.FreeFactor != 0 && order > 0 && order <= PageAllocator.CostlyOrder;
        int high = NrPcpHigh(pcp, zone, freeHigh);
        if (pcp.Count >= high) FreePcppagesBulk(buddy, zone, NrPcpFree(pcp, high, pcp.Batch, freeHigh), pcp, pindex);
    }

    /// <summary>nr_pcp_high: 0 when pcp is off or freeing high-order pages in a run; min(4 × batch, high) while reclaim is active on the zone.</summary>
    private static int NrPcpHigh(PerCpuPages pcp, Zone zone, bool freeHigh)
    {
        if (pcp.High == 0 || freeHigh) return 0;
        return (zone.Flags & ZoneFlags.ReclaimActive) == 0 ? pcp.High : Math.Min(pcp.Batch << 2, pcp.High);
    }

    /// <summary>
    /// nr_pcp_free: everything when freeing high-order pages in a run; 1 for a boot pageset; else batch &lt;&lt; free_factor
    /// (free_factor grows while that is below high − batch), clamped to [batch, high − batch].
    /// </summary>
    private static int NrPcpFree(PerCpuPages pcp, int high, int batch, bool freeHigh)
    {
        if (freeHigh) return pcp.Count;
        if (high < batch) return 1;
        int minNrFree = batch, maxNrFree = high - batch;
        batch <<= pcp.FreeFactor;
        if (batch < maxNrFree) pcp.FreeFactor++;
        return Math.Clamp(batch, minNrFree, maxNrFree);
    }

    /// <summary>
    /// free_pcppages_bulk (6.1): under zone-&gt;lock, <paramref name="count"/> pages (at most what the lists hold),
    /// starting with the list at <paramref name="pindex"/>, then round-robin over the lists that are not empty (the
    /// window of list indices shrinking as empty ends are found); from each list blocks from the tail until count is
    /// used or the list is empty, each by __free_one_page with its recorded pcp migratetype. Where the kernel would spin
    /// forever (<c>pcp-&gt;count</c> above what the lists hold, after a corruption), the mismatch is reported as
    /// accounting and the drain stops.
    /// </summary>
    [Preemptible]
    private void FreePcppagesBulk(BuddyAllocator buddy, Zone zone, int count, PerCpuPages pcp, int pindex)
    {
        int minPindex = 0, maxPindex = PerCpuPages.NrPcpLists - 1;
        count = Math.Min(pcp.Count, count);
        pindex--;
        zone.Lock.Lock();
        while (count > 0)
        {
            int list;
            while (true)
            {
                if (++pindex > maxPindex) pindex = minPindex;
                list = pcp.Lists[pindex];
                if (!_lists.Empty(list)) break;
                if (pindex == maxPindex) maxPindex--;
                if (pindex == minPindex) minPindex++;
                if (minPindex > maxPindex)
                {
                    _sanitizer.Report(ReportKind.Accounting, -1,
                        $"free_pcppages_bulk: {count} pages still to free, but every per-cpu list of zone {zone.Name} is empty");
                    zone.Lock.Unlock();
                    return;
                }
            }
            int order = PerCpuPages.PindexToOrder(pindex), nrPages = 1 << order;
            do
            {
                int page = _lists.Prev(list);
                _lists.Del(page);
                count -= nrPages;
                pcp.Count -= nrPages;
                buddy.FreeOneBlock(zone, page, order, _pages.Index[page]);
            } while (count > 0 && !_lists.Empty(list));
        }
        zone.Lock.Unlock();
    }

    /// <summary>drain_pages_zone: everything <paramref name="cpu"/>'s pageset of <paramref name="zone"/> holds, under its lock (any CPU's).</summary>
    [Preemptible]
    public void DrainPagesZone(BuddyAllocator buddy, int cpu, Zone zone)
    {
        var pcp = Pcp(zone, cpu);
        if (pcp.Count == 0) return;
        int pcpLock = PcpLock(zone, cpu);
        _pcpLocks.Enter(pcpLock, cpu);
        FreePcppagesBulk(buddy, zone, pcp.Count, pcp, 0);
        _pcpLocks.Exit(pcpLock, cpu);
    }

    /// <summary>
    /// drain_all_pages(zone) (6.1 __drain_all_pages): every CPU's pageset of <paramref name="zone"/>, or of every zone for
    /// null, under pcpu_drain_mutex. A drain of every zone that finds another drain in progress returns at once, without
    /// draining ("Do not drain if one is already in progress unless it's specific to a zone"); a zone's drain waits for it.
    /// </summary>
    [Preemptible]
    public void DrainAllPages(BuddyAllocator buddy, Zone? zone)
    {
        if (!_drainMutex.TryLock())
        {
            if (zone is null) return;
            _drainMutex.Lock();
        }
        for (int cpu = 0; cpu < Cpus; cpu++)
            foreach (var z in _node.Zones)
                if (zone is null || z == zone) DrainPagesZone(buddy, cpu, z);
        _drainMutex.Unlock();
    }

    /// <summary>
    /// zone_pcp_update(zone, 0) → zone_set_pageset_high_and_batch: batch = max(1, zone_batchsize), high = zone_highsize,
    /// on every CPU. Run after the watermarks are set (setup_per_zone_wmarks).
    /// </summary>
    public void ZonePcpUpdate(Zone zone)
    {
        int batch = Math.Max(1, ZoneBatchsize(zone.ManagedPages));
        int high = ZoneHighsize(zone.WmarkPages(Zone.WmarkLow), batch, Cpus);
        foreach (var pcp in _pagesets[zone.Index]) (pcp.Batch, pcp.High) = (batch, high);
    }

    /// <summary>
    /// zone_batchsize (6.1): min(managed / 1024, 1 MiB of pages) / 4, at least 1, then rounddown_pow_of_two(batch × 1.5) − 1
    /// (63 for a zone of 1 GiB or more).
    /// </summary>
    public static int ZoneBatchsize(long managedPages)
    {
        long batch = Math.Min(managedPages >> 10, 256) / 4;
        if (batch < 1) batch = 1;
        long sum = batch + batch / 2;
        return (int)(1L << (63 - (int)long.LeadingZeroCount(sum))) - 1;
    }

    /// <summary>zone_highsize (6.1, percpu_pagelist_high_fraction 0): the low watermark (<paramref name="lowWmarkPages"/>, boost included) split over the node's CPUs, at least 4 × batch.</summary>
    public static int ZoneHighsize(long lowWmarkPages, int batch, int cpus) => (int)Math.Max(lowWmarkPages / cpus, batch << 2);
}
