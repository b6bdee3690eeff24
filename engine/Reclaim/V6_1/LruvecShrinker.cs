using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// The node-reclaim core of 6.1 mm/vmscan.c that kswapd and direct reclaim share, over the node lruvec (one set of LRU
/// lists for all zones, v4.8; classic two-list LRU, MGLRU off as Debian 12 ships it): <c>shrink_node</c> (again while
/// <c>should_continue_reclaim</c>; the pgdat flags and <c>reclaim_throttle</c> from what its batches found; progress
/// resets <c>kswapd_failures</c>), <c>prepare_scan_count</c> (deactivation by the inactive:active ratios, cache-trim
/// mode, file_is_tiny), <c>get_scan_count</c> (the anon/file balance by <c>anon_cost</c>/<c>file_cost</c>),
/// <c>shrink_lruvec</c>, <c>shrink_active_list</c>, <c>shrink_inactive_list</c> with <c>isolate_lru_folios</c>
/// (pages of zones above <c>reclaim_idx</c> are skipped, pgskip), <c>shrink_folio_list</c> (<see cref="FolioReclaim"/>)
/// and <c>lru_note_cost</c>; a type is deactivated when its inactive list is low or when refaults of its type were
/// activated since the last snapshot (<see cref="Workingset"/>).
/// </summary>
internal sealed partial class LruvecShrinker(Node node, PageTable pages, PageLists lists, Lru lru, Rmap rmap, SwapArea swap, ZoneReclaimable reclaimable,
    FolioReclaim pageReclaim, ShrinkSlab shrinkSlab, Writeback writeback, NodeReclaimState state, Workingset workingset, Compactor compaction,
    IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock, FatalSignal signal)
{
    private const int Anon = 0, File = 1;
    private const int SwapClusterMax = V3_16.ScanControl.SwapClusterMax, DefPriority = V3_16.ScanControl.DefPriority;

    /// <summary>shrink_lruvec's cond_resched after each round, as one delegate (not one per call).</summary>
    private readonly Action _condResched = clock.CondResched;

    /// <summary>enum vmscan_throttle_state.</summary>
    internal enum Throttle { Writeback, Isolated, NoProgress, Congested }

    /// <summary>The node lruvec's lru_lock (every zone's LruLock is this one).</summary>
    private SimLock LruLock => node.Zones[0].LruLock;

    /// <summary>The node lruvec's list <paramref name="l"/>.</summary>
    private int Head(int l) => node.Zones[0].LruHead[l];

    /// <summary>A zone index for the lowmem_reserve and watermark look-ups: ZONE_MOVABLE and Normal fall to the highest zone present.</summary>
    public int ClassZone(int zoneIdx) => Math.Min(zoneIdx, node.Zones.Count - 1);

    /// <summary>
    /// shrink_node (6.1): prepare_scan_count, shrink_lruvec, shrink_slab (its pages count as reclaimed); kswapd flags the
    /// node PGDAT_WRITEBACK / PGDAT_DIRTY / congested from the batches and throttles on pages it must wait for; direct
    /// reclaim throttles on a congested node; again while should_continue_reclaim. Progress resets kswapd_failures.
    /// </summary>
    [Preemptible]
    public void ShrinkNode(ScanControl sc)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_node");
        bool reclaimable = false;
        long nrReclaimed;
        do
        {
            sc.ResetNr();
            nrReclaimed = sc.NrReclaimed;
            PrepareScanCount(sc);
            ShrinkLruvec(sc);
            sc.NrReclaimed += shrinkSlab.Shrink(sc.GfpMask, sc.Priority);
            if (sc.NrReclaimed - nrReclaimed > 0) reclaimable = true;
            if (sc.Kswapd)
            {
                if (sc.NrWriteback > 0 && sc.NrWriteback == sc.NrTaken) node.PgdatFlags |= ZoneFlags.Writeback;
                if (sc.NrUnqueuedDirty == sc.NrFileTaken) node.PgdatFlags |= ZoneFlags.TailLruDirty; // PGDAT_DIRTY
                if (sc.NrImmediate > 0) ReclaimThrottle(Throttle.Writeback);
                if (sc.NrDirty > 0 && sc.NrDirty == sc.NrCongested) node.PgdatFlags |= ZoneFlags.Congested; // LRUVEC_CONGESTED
            }
            else if ((node.PgdatFlags & ZoneFlags.Congested) != 0) ReclaimThrottle(Throttle.Congested);
        } while (ShouldContinueReclaim(sc.NrReclaimed - nrReclaimed, sc));
        if (reclaimable) state.KswapdFailures = 0;
    }

    /// <summary>kswapd_age_node (6.1): with swap, age the active anon list when the inactive one is low.</summary>
    [Preemptible]
    public void AgeNode(ScanControl sc)
    {
        if (swap.TotalSwapPages > 0 && InactiveIsLow(Zone.LruInactiveAnon)) ShrinkActiveList(SwapClusterMax, sc, Zone.LruActiveAnon);
    }

    /// <summary>
    /// prepare_scan_count (6.1): the lruvec's costs; may_deactivate a type whose inactive list is low or whose refaults
    /// were activated since the last snapshot (or every type when forced); cache_trim_mode while the inactive file list has pages at this priority and is not to be
    /// deactivated; file_is_tiny when file pages plus free memory are at most the high watermarks, anon is not to be
    /// deactivated and its inactive list has pages at this priority.
    /// </summary>
    [Preemptible]
    private void PrepareScanCount(ScanControl sc)
    {
        LruLock.Lock();
        sc.AnonCost = state.AnonCost;
        sc.FileCost = state.FileCost;
        LruLock.Unlock();
        // New refault activations mean a new workingset is being established: deactivate to get rid of stale active
        // pages quickly.
        sc.MayDeactivate = sc.ForceDeactivate
            ? ScanControl.DeactivateAnon | ScanControl.DeactivateFile
            : (workingset.NewAnonRefaults || InactiveIsLow(Zone.LruInactiveAnon) ? ScanControl.DeactivateAnon : 0)
              | (workingset.NewFileRefaults || InactiveIsLow(Zone.LruInactiveFile) ? ScanControl.DeactivateFile : 0);
        sc.CacheTrimMode = (NodeLruSize(Zone.LruInactiveFile) >> sc.Priority) != 0 && (sc.MayDeactivate & ScanControl.DeactivateFile) == 0;
        long free = node.Zones.Sum(z => z.FreePages);
        long file = NodeLruSize(Zone.LruActiveFile) + NodeLruSize(Zone.LruInactiveFile);
        long totalHighWmark = node.Zones.Sum(z => z.WmarkPages(Zone.WmarkHigh));
        sc.FileIsTiny = file + free <= totalHighWmark && (sc.MayDeactivate & ScanControl.DeactivateAnon) == 0
            && (NodeLruSize(Zone.LruInactiveAnon) >> sc.Priority) != 0;
    }

    /// <summary>
    /// get_scan_count (6.1): file only without swap; both in proportion to size at priority 0; anon only when file is
    /// tiny; file only in cache-trim mode; else each type in inverse proportion to its reclaim cost, weighted by
    /// swappiness (60), every type keeping at least a third of the pressure. Sizes count only zones up to reclaim_idx.
    /// </summary>
    private void GetScanCount(ScanControl sc, Span<long> nr)
    {
        ScanBalance balance;
        ulong ap = 0, fp = 0, denominator = 1;
        if (!sc.MaySwap || swap.NrSwapPages <= 0) balance = ScanBalance.File;
        else if (sc.Priority == 0 && sc.Swappiness != 0) balance = ScanBalance.Equal;
        else if (sc.FileIsTiny) balance = ScanBalance.Anon;
        else if (sc.CacheTrimMode) balance = ScanBalance.File;
        else
        {
            balance = ScanBalance.Fract;
            ulong totalCost = (ulong)(sc.AnonCost + sc.FileCost);
            ulong anonCost = totalCost + (ulong)sc.AnonCost, fileCost = totalCost + (ulong)sc.FileCost;
            totalCost = anonCost + fileCost;
            ap = (ulong)sc.Swappiness * (totalCost + 1) / (anonCost + 1);
            fp = (ulong)(200 - sc.Swappiness) * (totalCost + 1) / (fileCost + 1);
            denominator = ap + fp;
        }
        for (int l = Zone.LruInactiveAnon; l <= Zone.LruActiveFile; l++)
        {
            bool isFile = l >= Zone.LruInactiveFile;
            long scan = LruvecLruSize(l, sc.ReclaimIdx) >> sc.Priority;
            nr[l] = balance switch
            {
                ScanBalance.Fract => (long)((ulong)scan * (isFile ? fp : ap) / denominator),
                ScanBalance.File => isFile ? scan : 0,
                ScanBalance.Anon => isFile ? 0 : scan,
                _ => scan,
            };
        }
    }

    private enum ScanBalance { Equal, Fract, Anon, File }

    /// <summary>shrink_lruvec (6.1): the shared scan loop (<see cref="ShrinkLruvecLoop"/>), then anon ageing when swap is present and its inactive list is low.</summary>
    [Preemptible]
    private void ShrinkLruvec(ScanControl sc)
    {
        Span<long> nr = stackalloc long[Zone.LruUnevictable];
        GetScanCount(sc, nr);
        bool proportionalReclaim = !sc.Kswapd && sc.Priority == DefPriority;
        sc.NrReclaimed += ShrinkLruvecLoop.Run(nr, sc.NrToReclaim, proportionalReclaim, (Shrinker: this, Sc: sc),
            static (s, l, n) => s.Shrinker.ShrinkList(l, n, s.Sc), scanToCutTarget: false, condResched: _condResched);
        AgeNode(sc);
    }

    /// <summary>shrink_list (6.1): an active list is aged only if its type may be deactivated (else skipped_deactivate); an inactive list is reclaimed.</summary>
    [Preemptible]
    private long ShrinkList(int l, long n, ScanControl sc)
    {
        if (l == Zone.LruActiveAnon || l == Zone.LruActiveFile)
        {
            if ((sc.MayDeactivate & (1 << (l == Zone.LruActiveFile ? File : Anon))) != 0) ShrinkActiveList(n, sc, l);
            else sc.SkippedDeactivate = true;
            return 0;
        }
        return ShrinkInactiveList(n, sc, l);
    }

    /// <summary>inactive_is_low (6.1): inactive × int_sqrt(10 × GiB of the type) &lt; active, over the node lruvec.</summary>
    private bool InactiveIsLow(int inactiveLru)
    {
        long inactive = NodeLruSize(inactiveLru), active = NodeLruSize(inactiveLru + 1);
        long gb = (inactive + active) >> 18;
        long ratio = gb > 0 ? (long)Math.Sqrt(10.0 * gb) : 1;
        return inactive * ratio < active;
    }

    /// <summary>lruvec_page_state(lruvec, NR_LRU_BASE + l): the node's pages on list <paramref name="l"/>.</summary>
    private long NodeLruSize(int l) => LruvecLruSize(l, int.MaxValue);

    /// <summary>lruvec_lru_size (6.1): the pages on list <paramref name="l"/> of zones up to <paramref name="zoneIdx"/>.</summary>
    private long LruvecLruSize(int l, int zoneIdx)
    {
        long size = 0;
        foreach (var zone in node.Zones)
            if (zone.Index <= zoneIdx) size += zone.Stat[(int)ZoneStat.NrInactiveAnon + l];
        return size;
    }

    /// <summary>
    /// shrink_active_list (6.1): isolate from the tail (pgrefill counts what was scanned), then deactivate every page —
    /// a referenced one stays active only if it is file-backed and mapped VM_EXEC, which no page of the workload is;
    /// folio_referenced clears the young bits all the same; pgdeactivate.
    /// </summary>
    [Preemptible]
    private void ShrinkActiveList(long nrToScan, ScanControl sc, int l)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_active_list");
        lru.LruAddDrain();
        int hold = lists.NewHead();
        var taken = new long[node.Zones.Count];
        LruLock.Lock();
        IsolateLruFolios(nrToScan, hold, out long scanned, sc, l, taken);
        ModIsolated(l, taken, +1);
        vmstat.Count(VmEvent.Pgrefill, scanned);
        LruLock.Unlock();

        int inactive = lists.NewHead();
        while (!lists.Empty(hold))
        {
            clock.CondResched();
            int page = lists.Prev(hold);
            lists.Del(page);
            rmap.PageReferenced(page);
            pages.Clear(page, PG.Active); // we are de-activating
            pages.Set(page, PG.Workingset);
            lists.Add(page, inactive);
        }
        LruLock.Lock();
        vmstat.Count(VmEvent.Pgdeactivate, MoveFoliosToLru(inactive));
        ModIsolated(l, taken, -1);
        LruLock.Unlock();
        pageReclaim.FreePageList(inactive); // free_unref_page_list(&l_active), after the lock
        lists.FreeHead(hold);
        lists.FreeHead(inactive);
    }

    /// <summary>
    /// shrink_inactive_list (6.1): while too many pages are isolated, throttle once (VMSCAN_THROTTLE_ISOLATED) and give up
    /// the second time, or, with a fatal signal pending after the throttle, return SWAP_CLUSTER_MAX ("We are about to die
    /// and free our memory"); isolate from the tail (pgscan_kswapd/direct and pgscan_anon/file count what was scanned, skipped
    /// pages included), shrink_folio_list, put the rest back (pgsteal_*), lru_note_cost with the pages written out; wake
    /// the flushers if every page taken was dirty and not yet queued; add the batch to sc-&gt;nr. Returns the pages reclaimed.
    /// </summary>
    [Preemptible]
    internal long ShrinkInactiveList(long nrToScan, ScanControl sc, int l)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_inactive_list");
        int file = l >= Zone.LruInactiveFile ? File : Anon;
        for (bool stalled = false; TooManyIsolated(file, sc); stalled = true)
        {
            if (stalled) return 0;
            ReclaimThrottle(Throttle.Isolated);
            if (signal.Pending) return ScanControl.SwapClusterMax;
        }
        lru.LruAddDrain();
        int list = lists.NewHead();
        var takenByZone = new long[node.Zones.Count];
        LruLock.Lock();
        long taken = IsolateLruFolios(nrToScan, list, out long scanned, sc, l, takenByZone);
        ModIsolated(l, takenByZone, +1);
        vmstat.Count(sc.Kswapd ? VmEvent.PgscanKswapd : VmEvent.PgscanDirect, scanned);
        vmstat.Count(VmEvent.PgscanAnon + file, scanned);
        LruLock.Unlock();
        if (taken == 0)
        {
            lists.FreeHead(list);
            return 0;
        }
        var stats = new PageListReclaim.BatchStats();
        long reclaimed = pageReclaim.ShrinkPageList(list, zone: null, sc, stats);
        LruLock.Lock();
        MoveFoliosToLru(list);
        ModIsolated(l, takenByZone, -1);
        vmstat.Count(sc.Kswapd ? VmEvent.PgstealKswapd : VmEvent.PgstealDirect, reclaimed);
        vmstat.Count(VmEvent.PgstealAnon + file, reclaimed);
        LruLock.Unlock();
        state.LruNoteCost(file == File, stats.Pageout);
        pageReclaim.FreePageList(list); // free_unref_page_list(&folio_list), after the lock
        lists.FreeHead(list);

        if (stats.UnqueuedDirty == taken) writeback.WakeupFlusherThreads(node.Zones.Sum(z => z.Stat[(int)ZoneStat.NrDirty]));
        sc.NrDirty += stats.Dirty;
        sc.NrCongested += stats.Congested;
        sc.NrUnqueuedDirty += stats.UnqueuedDirty;
        sc.NrWriteback += stats.Writeback;
        sc.NrImmediate += stats.Immediate;
        sc.NrTaken += taken;
        if (file == File) sc.NrFileTaken += taken;
        return reclaimed;
    }

    /// <summary>
    /// isolate_lru_folios (6.1), lru_lock held: up to <paramref name="nrToScan"/> eligible pages from the tail of list
    /// <paramref name="l"/> onto <paramref name="dst"/>. A page of a zone above reclaim_idx is set aside (not counted
    /// against nrToScan) and spliced back at the head afterwards, counted as pgskip of its zone; a page that cannot be
    /// taken (not on the LRU, mapped when reclaim may not unmap, being freed) goes to the head. <paramref name="scanned"/>
    /// counts every page looked at, skipped ones included; <paramref name="takenByZone"/> the pages taken per zone.
    /// </summary>
    private long IsolateLruFolios(long nrToScan, int dst, out long scanned, ScanControl sc, int l, long[] takenByZone)
    {
        int src = Head(l), skipped = lists.NewHead();
        long scan = 0, taken = 0;
        var nrSkipped = new long[node.Zones.Count];
        scanned = 0;
        while (scan < nrToScan && !lists.Empty(src))
        {
            int page = lists.Prev(src);
            var zone = node.ZoneOf(page);
            scanned++;
            lists.Del(page);
            if (zone.Index > sc.ReclaimIdx)
            {
                nrSkipped[zone.Index]++;
                lists.Add(page, skipped);
                continue;
            }
            scan++;
            if ((!sc.MayUnmap && pages.PageMapped(page)) || lru.IsolateLruPageLocked(page, IsolateMode.None) != 0)
            {
                lists.Add(page, src);
                continue;
            }
            zone.Stat.Add((int)ZoneStat.NrInactiveAnon + l, -1); // update_lru_sizes
            lists.Add(page, dst);
            takenByZone[zone.Index]++;
            taken++;
        }
        while (!lists.Empty(skipped))
        {
            int page = lists.Prev(skipped);
            lists.Del(page);
            lists.Add(page, src);
        }
        lists.FreeHead(skipped);
        for (int z = 0; z < nrSkipped.Length; z++) vmstat.Count(VmEvent.PgskipDma + z, nrSkipped[z]);
        return taken;
    }

    /// <summary>__mod_node_page_state(NR_ISOLATED_ANON + file): kept per zone, by the zones the pages came from.</summary>
    private void ModIsolated(int l, long[] takenByZone, int sign)
    {
        int item = (int)ZoneStat.NrIsolatedAnon + (l >= Zone.LruInactiveFile ? File : Anon);
        for (int z = 0; z < takenByZone.Length; z++) node.Zones[z].Stat.Add(item, sign * takenByZone[z]);
    }

    /// <summary>
    /// move_folios_to_lru (6.1), lru_lock held: each page from the private list's tail gets PG_lru back and drops the
    /// isolation reference — added at the head of the list page_lru() names (a page put back active ages the lruvec,
    /// workingset_age_nonresident), or, if that was its last, put on folios_to_free (list_add), which is spliced back onto
    /// <paramref name="list"/> for the caller to free once the lock is dropped. Returns the pages put back.
    /// </summary>
    private long MoveFoliosToLru(int list)
    {
        long moved = 0;
        int foliosToFree = lists.NewHead();
        while (!lists.Empty(list))
        {
            int page = lists.Prev(list);
            lists.Del(page);
            pages.Set(page, PG.Lru);
            if (--pages.Count[page] == 0)
            {
                pages.Clear(page, PG.Lru | PG.Active);
                lists.Add(page, foliosToFree);
                continue;
            }
            lru.AddPageToLruList(node.ZoneOf(page), page, lru.LruListOf(page));
            moved++;
            if (pages.Test(page, PG.Active)) workingset.AgeNonresident(1);
        }
        lists.SpliceAll(foliosToFree, list);
        lists.FreeHead(foliosToFree);
        return moved;
    }

    /// <summary>too_many_isolated (6.1 vmscan's): never for kswapd; else the node's isolated pages of the type exceed its inactive ones (÷ 8 for __GFP_IO|__GFP_FS callers).</summary>
    private bool TooManyIsolated(int file, ScanControl sc)
    {
        if (sc.Kswapd) return false;
        long inactive = NodeLruSize(file == File ? Zone.LruInactiveFile : Zone.LruInactiveAnon);
        long isolated = node.Zones.Sum(z => z.Stat[(int)ZoneStat.NrIsolatedAnon + file]);
        if ((sc.GfpMask & (Gfp.Io | Gfp.Fs)) == (Gfp.Io | Gfp.Fs)) inactive >>= 3;
        bool tooMany = isolated > inactive;
        if (!tooMany) state.Isolated.WakeUp(); // wake_throttle_isolated
        return tooMany;
    }

    /// <summary>
    /// should_continue_reclaim (6.1): only in reclaim/compaction mode (order &gt; 3, or order &gt; 0 below priority 10) and
    /// only after a pass that reclaimed something; stop once compaction would succeed or go ahead in a zone up to
    /// reclaim_idx; else go on while the inactive lists hold more than compact_gap(order) pages.
    /// </summary>
    private bool ShouldContinueReclaim(long nrReclaimed, ScanControl sc)
    {
        bool inReclaimCompaction = sc.Order > 0 && (sc.Order > 3 || sc.Priority < DefPriority - 2);
        if (!inReclaimCompaction || nrReclaimed == 0) return false;
        foreach (var zone in node.Zones)
        {
            if (zone.Index > sc.ReclaimIdx) break;
            var suitable = compaction.CompactionSuitable(zone, sc.Order, 0, ClassZone(sc.ReclaimIdx));
            if (suitable is CompactResultCode.Success or CompactResultCode.Continue) return false;
        }
        long inactive = NodeLruSize(Zone.LruInactiveFile);
        if (swap.NrSwapPages > 0) inactive += NodeLruSize(Zone.LruInactiveAnon);
        return inactive > 2L << sc.Order;
    }

    /// <summary>
    /// compaction_ready (6.1): compaction would succeed already (true) or cannot run yet (false); otherwise true once
    /// the zone is above its high watermark plus compact_gap(order) at order 0.
    /// </summary>
    public bool CompactionReady(Zone zone, ScanControl sc)
    {
        var suitable = compaction.CompactionSuitable(zone, sc.Order, 0, ClassZone(sc.ReclaimIdx));
        if (suitable == CompactResultCode.Success) return true;
        if (suitable == CompactResultCode.Skipped) return false;
        long watermark = zone.WmarkPages(Zone.WmarkHigh) + (2L << sc.Order);
        return buddy.ZoneWatermarkOk(zone, 0, watermark, ClassZone(sc.ReclaimIdx), 0);
    }

    /// <summary>
    /// reclaim_throttle (6.1): kernel threads other than kswapd only reschedule; writeback waits HZ/10, too many isolated
    /// HZ/50, no progress and congestion one jiffy — unless kswapd gave up on the node or at most half the reclaimable
    /// pages are waiting for writeback, when they only reschedule. A writeback sleeper is woken early once more than
    /// SWAP_CLUSTER_MAX pages per throttled reclaimer finished writeback (__acct_reclaim_writeback), an isolated one once
    /// a too_many_isolated finds the isolated pages no longer too many (<see cref="NodeReclaimState"/>'s wait queues); a
    /// no-progress or congested one sleeps its jiffy.
    /// </summary>
    [Preemptible]
    public void ReclaimThrottle(Throttle reason)
    {
        if (scheduler.Current.Flags.ReclaimThrottleExempt())
        {
            clock.CondResched();
            return;
        }
        string where = $"reclaim_throttle({reason.ToString().ToUpperInvariant()})";
        switch (reason)
        {
            case Throttle.Writeback:
                state.SleepThrottledWriteback(clock, where);
                return;
            case Throttle.Isolated:
                state.SleepThrottledIsolated(clock);
                return;
            default:
                if (SkipThrottleNoprogress()) clock.CondResched();
                else clock.ScheduleTimeout(1, where);
                return;
        }
    }

    /// <summary>skip_throttle_noprogress (6.1).</summary>
    private bool SkipThrottleNoprogress()
    {
        if (state.Hopeless) return true;
        long reclaimablePages = node.Zones.Sum(reclaimable.Pages);
        long writePending = node.Zones.Sum(z => z.Stat[(int)ZoneStat.NrDirty] + z.Stat[(int)ZoneStat.NrWriteback]);
        return 2 * writePending <= reclaimablePages;
    }
}
