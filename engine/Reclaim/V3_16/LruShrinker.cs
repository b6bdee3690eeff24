using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// The LRU-shrinking core of v3.16 mm/vmscan.c that direct reclaim and kswapd share: <c>shrink_zone</c> →
/// <c>shrink_lruvec</c> with <c>get_scan_count</c> (swappiness 60) and the proportional-scan adjustment,
/// <c>shrink_active_list</c> (ageing by pte young bits), <c>shrink_inactive_list</c> (isolate from the tail, then
/// <c>shrink_page_list</c>, <see cref="PageReclaim"/>), <c>putback_inactive_pages</c>, and the zone predicates
/// reclaim decides by. One lruvec per zone (no memcg). docs/kernel/reclaim-v3.16.md §2.
/// </summary>
internal sealed partial class LruShrinker(PageTable pages, PageLists lists, Lru lru, Rmap rmap, SwapArea swap, ZoneReclaimable reclaimable, PageReclaim pageReclaim,
    ICompaction compaction, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler, SimClock clock, Writeback writeback, FatalSignal signal)
{
    /// <summary>
    /// too_many_isolated's congestion_wait rounds before a simulated reclaimer gives up waiting (10 s of simulated time;
    /// v3.16 waits without bound, but in a simulation the path that isolated the pages may never run again). It gives
    /// up reclaiming nothing, as 5.16+ does after its one stall: returning SWAP_CLUSTER_MAX as after a fatal signal fed
    /// should_continue_reclaim a progress that never freed a page, and a reclaimer for a high order whose zone
    /// compaction_suitable found short of free pages went round shrink_zone for ever (a random-race campaign, seed 38).
    /// </summary>
    private const int TooManyIsolatedLimit = 100;

    private const int Anon = 0, File = 1;

    /// <summary>zone_reclaimable_pages (<see cref="Reclaim.ZoneReclaimable"/>).</summary>
    public long ZoneReclaimablePages(Zone zone) => reclaimable.Pages(zone);

    /// <summary>zone_reclaimable (<see cref="Reclaim.ZoneReclaimable"/>).</summary>
    public bool ZoneReclaimable(Zone zone) => reclaimable.Reclaimable(zone);

    /// <summary>
    /// shrink_zone (v3.16): shrink_lruvec, repeated while <c>should_continue_reclaim</c> says reclaim for a
    /// high-order allocation should go on to make room for compaction.
    /// </summary>
    [Preemptible]
    public void ShrinkZone(Zone zone, ScanControl sc)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_zone");
        long reclaimed, scanned;
        do
        {
            reclaimed = sc.NrReclaimed;
            scanned = sc.NrScanned;
            sc.Swappiness = 60;
            ShrinkLruvec(zone, sc);
        } while (ShouldContinueReclaim(zone, sc.NrReclaimed - reclaimed, sc.NrScanned - scanned, sc));
    }

    /// <summary>shrink_active_list of the anon lists when they are out of balance (age_active_anon, kswapd; shrink_lruvec's end).</summary>
    [Preemptible]
    public void AgeActiveAnon(Zone zone, ScanControl sc)
    {
        if (swap.TotalSwapPages == 0) return;
        if (InactiveAnonIsLow(zone)) ShrinkActiveList(ScanControl.SwapClusterMax, zone, sc, Zone.LruActiveAnon);
    }

    /// <summary>
    /// shrink_lruvec (v3.16): scan each list's share in SWAP_CLUSTER_MAX batches, round robin over INACTIVE_ANON,
    /// ACTIVE_ANON, INACTIVE_FILE, ACTIVE_FILE; once nr_to_reclaim is met (not in direct reclaim's first pass),
    /// stop the smaller type and scan the other only in proportion; then age the anon lists if they are unbalanced, and
    /// wait while too many pages are under writeback (throttle_vm_writeout).
    /// </summary>
    [Preemptible]
    private void ShrinkLruvec(Zone zone, ScanControl sc)
    {
        Span<long> nr = stackalloc long[Zone.LruUnevictable];
        GetScanCount(zone, sc, nr);
        bool proportionalReclaim = !sc.Kswapd && sc.Priority == ScanControl.DefPriority;
        sc.NrReclaimed += ShrinkLruvecLoop.Run(nr, sc.NrToReclaim, proportionalReclaim, (Shrinker: this, Zone: zone, Sc: sc),
            static (s, l, n) => s.Shrinker.ShrinkList(l, n, s.Zone, s.Sc), scanToCutTarget: true, condResched: null);
        AgeActiveAnon(zone, sc);
        writeback.ThrottleVmWriteout(sc.GfpMask);
    }

    /// <summary>
    /// get_scan_count (v3.16): how many pages of each evictable list to scan at this priority — file only without
    /// swap (or with the inactive file list at least as big as the active one), anon only when file cache plus
    /// free memory is below the high watermark, both equally at priority 0, else in proportion to swappiness and
    /// to how often recently scanned pages were rotated back. Written into <paramref name="nr"/>, per evictable list.
    /// </summary>
    private void GetScanCount(Zone zone, ScanControl sc, Span<long> nr)
    {
        var s = zone.Stat;
        bool forceScan = sc.Kswapd && !ZoneReclaimable(zone);
        long anon = s[(int)ZoneStat.NrActiveAnon] + s[(int)ZoneStat.NrInactiveAnon];
        long file = s[(int)ZoneStat.NrActiveFile] + s[(int)ZoneStat.NrInactiveFile];
        ScanBalance balance;
        long ap = 0, fp = 0, denominator = 1;
        if (!sc.MaySwap || swap.NrSwapPages <= 0) balance = ScanBalance.File;
        else if (sc.Priority == 0 && sc.Swappiness != 0) balance = ScanBalance.Equal;
        else if (file + zone.FreePages <= zone.Watermark[Zone.WmarkHigh]) balance = ScanBalance.Anon;
        else if (!InactiveFileIsLow(zone)) balance = ScanBalance.File;
        else
        {
            balance = ScanBalance.Fract;
            long anonPrio = sc.Swappiness, filePrio = 200 - anonPrio;
            zone.LruLock.Lock();
            if (zone.RecentScanned[Anon] > anon / 4)
            {
                zone.RecentScanned.Set(Anon, zone.RecentScanned[Anon] / 2);
                zone.RecentRotated.Set(Anon, zone.RecentRotated[Anon] / 2);
            }
            if (zone.RecentScanned[File] > file / 4)
            {
                zone.RecentScanned.Set(File, zone.RecentScanned[File] / 2);
                zone.RecentRotated.Set(File, zone.RecentRotated[File] / 2);
            }
            ap = anonPrio * (zone.RecentScanned[Anon] + 1) / (zone.RecentRotated[Anon] + 1);
            fp = filePrio * (zone.RecentScanned[File] + 1) / (zone.RecentRotated[File] + 1);
            zone.LruLock.Unlock();
            denominator = ap + fp + 1;
        }
        for (int pass = 0; pass < 2; pass++)
        {
            bool some = false;
            for (int l = Zone.LruInactiveAnon; l <= Zone.LruActiveFile; l++)
            {
                bool isFile = l >= Zone.LruInactiveFile;
                long size = s[(int)ZoneStat.NrInactiveAnon + l];
                long scan = size >> sc.Priority;
                if (scan == 0 && pass == 1 && forceScan) scan = Math.Min(size, ScanControl.SwapClusterMax);
                scan = balance switch
                {
                    ScanBalance.Fract => scan * (isFile ? fp : ap) / denominator,
                    ScanBalance.File => isFile ? scan : 0,
                    ScanBalance.Anon => isFile ? 0 : scan,
                    _ => scan,
                };
                nr[l] = scan;
                some |= scan != 0;
            }
            if (some) break;
        }
    }

    private enum ScanBalance { Equal, Fract, File, Anon }

    /// <summary>shrink_list: an active list is aged only when its inactive partner is low (and counts as nothing reclaimed); an inactive list is reclaimed.</summary>
    [Preemptible]
    private long ShrinkList(int l, long n, Zone zone, ScanControl sc)
    {
        if (l == Zone.LruActiveAnon || l == Zone.LruActiveFile)
        {
            if (l == Zone.LruActiveFile ? InactiveFileIsLow(zone) : InactiveAnonIsLow(zone)) ShrinkActiveList(n, zone, sc, l);
            return 0;
        }
        return ShrinkInactiveList(n, zone, sc, l);
    }

    /// <summary>inactive_file_is_low: more active than inactive file pages.</summary>
    private static bool InactiveFileIsLow(Zone zone) =>
        zone.Stat[(int)ZoneStat.NrActiveFile] > zone.Stat[(int)ZoneStat.NrInactiveFile];

    /// <summary>inactive_anon_is_low: never without swap; else inactive × inactive_ratio &lt; active.</summary>
    private bool InactiveAnonIsLow(Zone zone) =>
        swap.TotalSwapPages > 0 && zone.Stat[(int)ZoneStat.NrInactiveAnon] * zone.InactiveRatio < zone.Stat[(int)ZoneStat.NrActiveAnon];

    /// <summary>
    /// shrink_active_list (v3.16): isolate from the tail and deactivate (PG_referenced is not looked at: only pte
    /// young bits count, as rotations); pgrefill, pgdeactivate, reclaim_stat.
    /// </summary>
    [Preemptible]
    private void ShrinkActiveList(long nrToScan, Zone zone, ScanControl sc, int l)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_active_list");
        lru.LruAddDrain();
        int file = l >= Zone.LruInactiveFile ? File : Anon;
        int hold = lists.NewHead();
        zone.LruLock.Lock();
        long taken = IsolateLruPages(nrToScan, zone, hold, out long scanned, IsolateModeOf(sc), l);
        zone.PagesScanned += scanned;
        zone.RecentScanned.Add(file, taken);
        vmstat.Count(VmEvent.PgrefillDma + zone.Index, scanned);
        zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + file, taken);
        zone.LruLock.Unlock();

        // Every page is deactivated: a referenced one counts as rotated, and only a referenced file page mapped
        // VM_EXEC would stay active, which no page of the workload is.
        long rotated = 0;
        int deactivate = lists.NewHead();
        while (!lists.Empty(hold))
        {
            int page = lists.Prev(hold);
            lists.Del(page);
            clock.CondResched();
            if (rmap.PageReferenced(page) > 0) rotated++;
            pages.Clear(page, PG.Active);
            lists.Add(page, deactivate);
        }
        zone.LruLock.Lock();
        zone.RecentRotated.Add(file, rotated);
        MoveActivePagesToLru(zone, deactivate, l - 1, hold);
        zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + file, -taken);
        zone.LruLock.Unlock();
        pageReclaim.FreePageList(hold); // free_hot_cold_page_list(&l_hold, true): the pages whose last reference went
        lists.FreeHead(hold);
        lists.FreeHead(deactivate);
    }

    /// <summary>
    /// move_active_pages_to_lru (v3.16): from the private list's tail to the head of <paramref name="l"/>, dropping
    /// the isolation reference (a page whose last one it was goes onto <paramref name="pagesToFree"/>, freed by the
    /// caller once lru_lock is dropped); pgdeactivate for an inactive destination.
    /// </summary>
    private void MoveActivePagesToLru(Zone zone, int list, int l, int pagesToFree)
    {
        long moved = 0;
        while (!lists.Empty(list))
        {
            int page = lists.Prev(list);
            lists.Del(page);
            pages.Set(page, PG.Lru);
            lru.AddPageToLruList(zone, page, l);
            moved++;
            DropIsolationReference(zone, page, l, pagesToFree);
        }
        if (l == Zone.LruInactiveAnon || l == Zone.LruInactiveFile) vmstat.Count(VmEvent.Pgdeactivate, moved);
    }

    /// <summary>
    /// shrink_inactive_list (v3.16): wait while too many pages are isolated (returning SWAP_CLUSTER_MAX, progress, if a
    /// fatal signal is pending after a wait), isolate up to <paramref name="nrToScan"/>
    /// from the tail, reclaim them with shrink_page_list, put the rest back; pgscan/pgsteal of kswapd or direct
    /// reclaim; the zone's writeback/dirty flags from what the batch held. Returns the pages reclaimed.
    /// </summary>
    [Preemptible]
    private long ShrinkInactiveList(long nrToScan, Zone zone, ScanControl sc, int l)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_inactive_list");
        int file = l >= Zone.LruInactiveFile ? File : Anon;
        for (int waits = 0; TooManyIsolated(zone, file, sc); waits++)
        {
            if (waits == TooManyIsolatedLimit) return 0;
            clock.CongestionWait();
            if (signal.Pending) return ScanControl.SwapClusterMax; // "We are about to die and free our memory"
        }
        lru.LruAddDrain();
        int list = lists.NewHead();
        zone.LruLock.Lock();
        long taken = IsolateLruPages(nrToScan, zone, list, out long scanned, IsolateModeOf(sc), l);
        zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + file, taken);
        zone.PagesScanned += scanned;
        vmstat.Count((sc.Kswapd ? VmEvent.PgscanKswapdDma : VmEvent.PgscanDirectDma) + zone.Index, scanned);
        zone.LruLock.Unlock();
        if (taken == 0)
        {
            lists.FreeHead(list);
            return 0;
        }
        var stats = new PageReclaim.BatchStats();
        long reclaimed = pageReclaim.ShrinkPageList(list, zone, sc, stats);
        zone.LruLock.Lock();
        zone.RecentScanned.Add(file, taken);
        vmstat.Count((sc.Kswapd ? VmEvent.PgstealKswapdDma : VmEvent.PgstealDirectDma) + zone.Index, reclaimed);
        PutbackInactivePages(zone, list);
        zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + file, -taken);
        zone.LruLock.Unlock();
        pageReclaim.FreePageList(list); // free_hot_cold_page_list(&page_list, true), after the lock
        lists.FreeHead(list);

        if (stats.Writeback > 0 && stats.Writeback == taken) zone.Flags |= ZoneFlags.Writeback;
        if (stats.Dirty > 0 && stats.Dirty == stats.Congested) zone.Flags |= ZoneFlags.Congested;
        if (stats.UnqueuedDirty == taken) zone.Flags |= ZoneFlags.TailLruDirty;
        if (stats.Immediate > 0) clock.CongestionWait();
        // wait_iff_congested: no backing device is ever congested here, so it only reschedules.
        if (!sc.Kswapd) clock.CondResched();
        return reclaimed;
    }

    /// <summary>
    /// putback_inactive_pages (v3.16): each page kept (or activated) back at the head of the list page_lru()
    /// names, dropping the isolation reference; reclaim_stat counts the activated ones as rotated. The pages whose last
    /// reference that was are left on <paramref name="list"/> (pages_to_free spliced back), for the caller to free.
    /// </summary>
    internal void PutbackInactivePages(Zone zone, int list)
    {
        int pagesToFree = lists.NewHead();
        while (!lists.Empty(list))
        {
            int page = lists.Prev(list);
            lists.Del(page);
            pages.Set(page, PG.Lru);
            int l = lru.LruListOf(page);
            lru.AddPageToLruList(zone, page, l);
            if (l == Zone.LruActiveAnon || l == Zone.LruActiveFile) zone.RecentRotated.Add(lru.PageIsFileCache(page) ? File : Anon, 1);
            DropIsolationReference(zone, page, l, pagesToFree);
        }
        lists.SpliceAll(pagesToFree, list);
        lists.FreeHead(pagesToFree);
    }

    /// <summary>
    /// put_page_testzero on a page just put back on LRU list <paramref name="l"/>: if that was its last reference it comes
    /// off that list again (del_page_from_lru_list with the list it was added to, worked out before PG_active is cleared)
    /// and goes onto <paramref name="pagesToFree"/> (list_add), to be freed once lru_lock is dropped.
    /// </summary>
    private void DropIsolationReference(Zone zone, int page, int l, int pagesToFree)
    {
        if (--pages.Count[page] > 0) return;
        pages.Clear(page, PG.Lru | PG.Active);
        lru.DelPageFromLruList(zone, page, l);
        lists.Add(page, pagesToFree);
    }

    /// <summary>
    /// isolate_lru_pages (v3.16): up to <paramref name="nrToScan"/> pages from the tail of <paramref name="l"/>
    /// onto <paramref name="dst"/>; a busy page is rotated to the head (still counted as scanned). Caller holds lru_lock.
    /// </summary>
    private long IsolateLruPages(long nrToScan, Zone zone, int dst, out long scanned, IsolateMode mode, int l)
    {
        int head = zone.LruHead[l];
        long taken = 0;
        for (scanned = 0; scanned < nrToScan && !lists.Empty(head); scanned++)
        {
            int page = lists.Prev(head);
            switch (lru.IsolateLruPageLocked(page, mode))
            {
                case 0:
                    lru.DelPageFromLruList(zone, page, l);
                    lists.Add(page, dst);
                    taken++;
                    break;
                case -16:
                    lists.Del(page);
                    lists.Add(page, head);
                    break;
                default:
                    sanitizer.Report(ReportKind.VmBug, page, $"BUG in isolate_lru_pages: pfn {page} on LRU list {l} is not an isolatable LRU page ({pages.DumpPage(page)})");
                    lists.Del(page);
                    lru.DelPageFromLruList(zone, page, l);
                    break;
            }
        }
        return taken;
    }

    /// <summary>The isolate mode of a reclaim pass: ISOLATE_UNMAPPED if it may not unmap, ISOLATE_CLEAN if it may not write.</summary>
    private static IsolateMode IsolateModeOf(ScanControl sc) =>
        (sc.MayUnmap ? IsolateMode.None : IsolateMode.Unmapped) | (sc.MayWritepage ? IsolateMode.None : IsolateMode.Clean);

    /// <summary>too_many_isolated (vmscan's): never for kswapd; else isolated &gt; inactive (÷ 8 for __GFP_IO|__GFP_FS callers).</summary>
    private static bool TooManyIsolated(Zone zone, int file, ScanControl sc)
    {
        if (sc.Kswapd) return false;
        long inactive = zone.Stat[(int)(file == File ? ZoneStat.NrInactiveFile : ZoneStat.NrInactiveAnon)];
        long isolated = zone.Stat[(int)ZoneStat.NrIsolatedAnon + file];
        if ((sc.GfpMask & PageAlloc.Gfp.Io) != 0 && (sc.GfpMask & PageAlloc.Gfp.Fs) != 0) inactive >>= 3;
        return isolated > inactive;
    }

    /// <summary>
    /// should_continue_reclaim (v3.16): only reclaim for compaction continues (order &gt; 3, or order &gt; 0 below
    /// priority 10); it stops once the last round reclaimed nothing, or enough is free for compaction, or
    /// compaction says it can proceed.
    /// </summary>
    private bool ShouldContinueReclaim(Zone zone, long reclaimed, long scanned, ScanControl sc)
    {
        bool inReclaimCompaction = sc.Order > 0 && (sc.Order > 3 || sc.Priority < ScanControl.DefPriority - 2);
        if (!inReclaimCompaction) return false;
        if ((sc.GfpMask & PageAlloc.Gfp.Repeat) != 0)
        {
            if (reclaimed == 0 && scanned == 0) return false;
        }
        else if (reclaimed == 0) return false;
        long pagesForCompaction = 2L << sc.Order;
        long inactive = zone.Stat[(int)ZoneStat.NrInactiveFile];
        if (swap.NrSwapPages > 0) inactive += zone.Stat[(int)ZoneStat.NrInactiveAnon];
        if (sc.NrReclaimed < pagesForCompaction && inactive > pagesForCompaction) return true;
        return compaction.CompactionSuitable(zone, sc.Order) == CompactStatus.Skipped;
    }
}
