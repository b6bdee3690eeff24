using System.Runtime.CompilerServices;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The per-zone LRU lists of v3.16 (mm/vmscan.c, mm/swap.c, include/linux/mm_inline.h), changed only under
/// <c>zone-&gt;lru_lock</c>. With <see cref="Pagevecs"/> registered, <c>lru_cache_add</c> parks pages in the
/// running CPU's pagevec until it is drained; without, the page goes on its list at once (what the drain does a
/// little later in the kernel).
/// </summary>
internal sealed partial class Lru(PageTable pages, PageLists lists, Node node, IBuddyAllocator buddy, MappingTable mappings, Sanitizer sanitizer,
    VmStat vmstat, Scheduler scheduler, ILruLists lruLists, Pagevecs? pagevecs = null, IWorkingset? workingset = null)
{
    /// <summary>The drains a full batch runs, made once (a method group would allocate a delegate per page).</summary>
    [Snapshots.NotState("wiring")]
    private Action<List<int>>? _drain, _activate;

    // The small list and counter helpers below are inlined always, as the page fields' accessors are (PageField's indexer).
    /// <summary>page_is_file_cache(): not swap-backed. Balloon pages have no PG_swapbacked, so they count as file.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PageIsFileCache(int pfn) => !pages.Test(pfn, PG.SwapBacked);

    /// <summary>
    /// mod_zone_page_state(page, NR_ISOLATED_ANON + page_is_file_cache(page), delta): a page isolated from (+1) or
    /// given back to (-1) the LRU. (A node counter from v4.8; kept per zone here.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ModIsolated(int pfn, int delta) =>
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrIsolatedAnon + (PageIsFileCache(pfn) ? 1 : 0), delta);

    /// <summary>page_lru(): unevictable, else the anon/file base list, + 1 if PG_active.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LruListOf(int pfn)
    {
        if (pages.Test(pfn, PG.Unevictable)) return Zone.LruUnevictable;
        int lru = PageIsFileCache(pfn) ? Zone.LruInactiveFile : Zone.LruInactiveAnon;
        return pages.Test(pfn, PG.Active) ? lru + 1 : lru;
    }

    /// <summary>add_page_to_lru_list: at the head; NR_INACTIVE_ANON.. (NR_LRU_BASE + lru) += 1. Caller holds lru_lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddPageToLruList(Zone zone, int pfn, int lru)
    {
        lists.Add(pfn, zone.LruHead[lru]);
        zone.Stat.Add((int)ZoneStat.NrInactiveAnon + lru, 1);
    }

    /// <summary>del_page_from_lru_list. Caller holds lru_lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void DelPageFromLruList(Zone zone, int pfn, int lru)
    {
        lists.Del(pfn);
        zone.Stat.Add((int)ZoneStat.NrInactiveAnon + lru, -1);
    }

    /// <summary>
    /// __isolate_lru_page (v3.16): only LRU pages; unevictable ones only with ISOLATE_UNEVICTABLE; in async mode
    /// (and ISOLATE_CLEAN) not under writeback, and not dirty unless the mapping can migrate without blocking
    /// (ISOLATE_CLEAN: not dirty at all); with ISOLATE_UNMAPPED not mapped; then
    /// get_page_unless_zero and clear PG_lru. The caller holds lru_lock and takes the page off its list.
    /// Returns 0, -EINVAL or -EBUSY.
    /// </summary>
    public int IsolateLruPageLocked(int pfn, IsolateMode mode)
    {
        const int EInval = -22, EBusy = -16;
        if (!pages.PageLru(pfn)) return EInval;
        if (pages.Test(pfn, PG.Unevictable) && (mode & IsolateMode.Unevictable) == 0) return EInval;
        if ((mode & (IsolateMode.Clean | IsolateMode.AsyncMigrate)) != 0)
        {
            if (pages.Test(pfn, PG.Writeback)) return EBusy;
            if (pages.Test(pfn, PG.Dirty))
            {
                if ((mode & IsolateMode.Clean) != 0) return EBusy;
                int mapping = Rmap.PageMapping(pages, pfn);
                if (mapping != 0 && mappings.MigratePage(mapping) == MigratePageOp.None) return EBusy;
            }
        }
        if ((mode & IsolateMode.Unmapped) != 0 && pages.PageMapped(pfn)) return EBusy;
        if (pages.Count[pfn] == 0) return EBusy; // get_page_unless_zero failed: being freed
        pages.Count[pfn]++;
        pages.Clear(pfn, PG.Lru);
        return 0;
    }

    /// <summary>isolate_lru_page (v3.16): take lru_lock, isolate with a reference, unlink. 0 or -EBUSY.</summary>
    [Preemptible]
    public int IsolateLruPage(int pfn)
    {
        if (pages.Count[pfn] == 0)
            sanitizer.Report(ReportKind.VmBug, pfn, "VM_BUG_ON_PAGE(!page_count(page)) in isolate_lru_page");
        if (!pages.PageLru(pfn)) return -16;
        var zone = node.ZoneOf(pfn);
        zone.LruLock.Lock();
        int rc = -16;
        if (pages.PageLru(pfn))
        {
            pages.Count[pfn]++;
            pages.Clear(pfn, PG.Lru);
            DelPageFromLruList(zone, pfn, LruListOf(pfn));
            rc = 0;
        }
        zone.LruLock.Unlock();
        return rc;
    }

    /// <summary>
    /// lru_cache_add (v3.16; 6.1 folio_add_lru): with pagevecs, take a reference and park the page in this CPU's batch
    /// (drained when full: <see cref="Pagevecs.Add"/>); without, __pagevec_lru_add_fn at once.
    /// </summary>
    [Preemptible]
    public void LruCacheAdd(int pfn)
    {
        if (pagevecs is null)
        {
            var zone = node.ZoneOf(pfn);
            zone.LruLock.Lock();
            PagevecLruAddFn(zone, pfn);
            zone.LruLock.Unlock();
            return;
        }
        pages.Count[pfn]++; // page_cache_get: the pagevec's reference
        pagevecs.Add(pfn, _drain ??= PagevecLruAdd);
    }

    /// <summary>lru_add_drain (v3.16): drain the running CPU's lru_add_pvec, then its activate batch.</summary>
    [Preemptible]
    public void LruAddDrain()
    {
        if (pagevecs is not null) pagevecs.Drain(scheduler.Current.Cpu, _drain ??= PagevecLruAdd, _activate ??= PagevecActivate);
    }

    /// <summary>lru_add_drain_all (v3.16): drain every CPU's batches (the work queued on each CPU; <see cref="Pagevecs"/>).</summary>
    [Preemptible]
    public void LruAddDrainAll()
    {
        if (pagevecs is null) return;
        for (int cpu = 0; cpu < scheduler.Cpus; cpu++) pagevecs.Drain(cpu, _drain ??= PagevecLruAdd, _activate ??= PagevecActivate);
    }

    /// <summary>__pagevec_lru_add: <see cref="PagevecLruMove"/> with __pagevec_lru_add_fn.</summary>
    [Preemptible]
    private void PagevecLruAdd(List<int> pvec) => PagevecLruMove(pvec, activate: false);

    /// <summary>activate_page_drain (v3.16), folio_activate_drain (6.1): <see cref="PagevecLruMove"/> with __activate_page.</summary>
    [Preemptible]
    private void PagevecActivate(List<int> pvec) => PagevecLruMove(pvec, activate: true);

    /// <summary>
    /// pagevec_lru_move_fn (v3.16; 6.1 folio_batch_move_lru): each page through its move function under its zone's
    /// lru_lock (taken once per run of same-zone pages), then <see cref="ReleasePages"/> drops the batch's references.
    /// </summary>
    // Never inlined: reached through the drain delegate, whose guarded devirtualization would inline it into the
    // per-page callers (migrate_pages), crowding out what they inline themselves.
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PagevecLruMove(List<int> pvec, bool activate)
    {
        if (pvec.Count == 0) return;
        Zone? locked = null;
        foreach (int pfn in pvec)
        {
            var zone = locked = RelockLru(locked, node.ZoneOf(pfn));
            if (activate) ActivatePageFn(zone, pfn);
            else PagevecLruAddFn(zone, pfn);
        }
        locked!.LruLock.Unlock();
        ReleasePages(pvec);
        pvec.Clear();
    }

    /// <summary>
    /// release_pages (v3.16 mm/swap.c; 6.1's does the same for order-0 pages, its relock every SWAP_CLUSTER_MAX pages
    /// beyond a batch of 15): each page's reference dropped; a page whose last reference that was comes off its LRU list
    /// under its zone's lru_lock, held across a run of such pages of one zone (page_off_lru: PG_active and
    /// PG_unevictable go), loses PG_active (v3.16, "in case of parallel mark_page_accessed"; 6.1 clears it only with the
    /// LRU flags, and a batch's page is on the LRU when the batch releases it) and is gathered with list_add, so that
    /// after the unlock the gathered pages are freed last first (free_hot_cold_page_list(…, cold = false), 6.1
    /// free_unref_page_list). The gathered pages take the places of the batch's first entries (the batch is emptied after).
    /// A page found off the LRU once the lock is held is v3.16's VM_BUG_ON_PAGE(!PageLRU), reported in every design: 6.1
    /// has no such check and would lruvec_del_folio it regardless. Without a corruption it cannot happen (the count was
    /// zero, so nobody could have taken the page off meanwhile); 6.1 source read in 6.1.78's mm/swap.c.
    /// </summary>
    [Preemptible]
    private void ReleasePages(List<int> pvec)
    {
        Zone? locked = null;
        int gathered = 0;
        for (int i = 0; i < pvec.Count; i++)
        {
            int pfn = pvec[i];
            if (!buddy.PutPageTestzero(pfn)) continue;
            var off = PG.Active;
            if (pages.PageLru(pfn))
            {
                var zone = locked = RelockLru(locked, node.ZoneOf(pfn));
                if (pages.PageLru(pfn)) DelPageFromLruList(zone, pfn, LruListOf(pfn));
                else sanitizer.Report(ReportKind.VmBug, pfn, "VM_BUG_ON_PAGE(!PageLRU(page)) in release_pages");
                off |= PG.Lru | PG.Unevictable;
            }
            pages.Clear(pfn, off);
            pvec[gathered++] = pfn;
        }
        if (locked is not null) locked.LruLock.Unlock();
        for (int i = gathered - 1; i >= 0; i--) buddy.FreePages(pvec[i], 0);
    }

    /// <summary>
    /// The relock of pagevec_lru_move_fn and release_pages (v3.16 "if (pagezone != zone)", 6.1 folio_lruvec_relock_irqsave):
    /// <paramref name="zone"/>'s lru_lock is held from here, <paramref name="locked"/>'s dropped first if it is another lock
    /// (from v4.8 a node's zones share one). Returns <paramref name="zone"/>.
    /// </summary>
    [Preemptible]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Zone RelockLru(Zone? locked, Zone zone)
    {
        if (zone.LruLock != locked?.LruLock)
        {
            if (locked is not null) locked.LruLock.Unlock();
            zone.LruLock.Lock();
        }
        return zone;
    }

    /// <summary>
    /// __pagevec_lru_add_fn: SetPageLRU, add at the head of the list page_lru() names, and count it in the
    /// zone's reclaim_stat (scanned, and rotated if active). Caller holds lru_lock.
    /// </summary>
    private void PagevecLruAddFn(Zone zone, int pfn)
    {
        if (pages.PageLru(pfn))
        {
            sanitizer.Report(ReportKind.VmBug, pfn, "VM_BUG_ON_PAGE(PageLRU(page)) in __pagevec_lru_add_fn");
            return;
        }
        pages.Set(pfn, PG.Lru);
        AddPageToLruList(zone, pfn, LruListOf(pfn));
        int file = PageIsFileCache(pfn) ? 1 : 0;
        zone.RecentScanned.Add(file, 1);
        if (pages.Test(pfn, PG.Active)) zone.RecentRotated.Add(file, 1);
    }

    /// <summary>
    /// mark_page_accessed (v3.16; 6.1 folio_mark_accessed): inactive and referenced → activate (activate_page, queued in
    /// this CPU's activate batch; a page off the LRU gets PG_active only if it sits in this CPU's pagevec,
    /// __lru_cache_activate_page: one isolated, being freed or in another CPU's pagevec is left alone); either way
    /// PG_referenced is cleared. Else set PG_referenced.
    /// </summary>
    [Preemptible]
    public void MarkPageAccessed(int pfn)
    {
        if (!pages.Test(pfn, PG.Active) && !pages.Test(pfn, PG.Unevictable) && pages.Test(pfn, PG.Referenced))
        {
            if (pages.PageLru(pfn)) ActivatePage(pfn);
            else if (pagevecs is not null && pagevecs.LocalHolds(pfn)) pages.Set(pfn, PG.Active); // lands on the active list when drained
            pages.Clear(pfn, PG.Referenced);
            workingset?.Activation(pfn); // v3.16 for a page-cache page, 6.1 for any
        }
        else if (!pages.Test(pfn, PG.Referenced)) pages.Set(pfn, PG.Referenced);
    }

    /// <summary>
    /// activate_page (v3.16 SMP), folio_activate (6.1): an inactive evictable LRU page is queued in this CPU's activate
    /// batch with a reference of its own; without pagevecs, __activate_page at once.
    /// </summary>
    [Preemptible]
    private void ActivatePage(int pfn)
    {
        if (!pages.PageLru(pfn) || pages.Test(pfn, PG.Active) || pages.Test(pfn, PG.Unevictable)) return;
        if (pagevecs is not null)
        {
            pages.Count[pfn]++; // page_cache_get: the batch's reference
            pagevecs.AddToActivate(pfn, _activate ??= PagevecActivate);
            return;
        }
        var zone = node.ZoneOf(pfn);
        zone.LruLock.Lock();
        ActivatePageFn(zone, pfn);
        zone.LruLock.Unlock();
    }

    /// <summary>
    /// __activate_page (v3.16; 6.1 folio_activate_fn, after folio_batch_move_lru skipped a page no longer on the LRU):
    /// an inactive LRU page to the head of its active list; pgactivate, reclaim_stat. Caller holds lru_lock.
    /// </summary>
    private void ActivatePageFn(Zone zone, int pfn)
    {
        if (pages.PageLru(pfn) && !pages.Test(pfn, PG.Active) && !pages.Test(pfn, PG.Unevictable))
        {
            int file = PageIsFileCache(pfn) ? 1 : 0;
            DelPageFromLruList(zone, pfn, LruListOf(pfn));
            pages.Set(pfn, PG.Active);
            AddPageToLruList(zone, pfn, LruListOf(pfn));
            vmstat.Count(VmEvent.Pgactivate);
            zone.RecentScanned.Add(file, 1);
            zone.RecentRotated.Add(file, 1);
        }
    }

    /// <summary>
    /// rotate_reclaimable_page (v3.16, at the end of writeback of a PG_reclaim page): a clean, unlocked, inactive
    /// LRU page moves to the tail of its list, next in line for reclaim; pgrotated. 6.1's folio_rotate_reclaimable
    /// (<see cref="ILruLists.RotateDeactivates"/>) takes an active page too, clearing PG_active (lru_move_tail_fn).
    /// (The rotate pagevec is drained at once.)
    /// </summary>
    [Preemptible]
    public void RotateReclaimablePage(int pfn)
    {
        bool takesActive = lruLists.RotateDeactivates;
        if (pages.PageLocked(pfn) || pages.Test(pfn, PG.Dirty) || (!takesActive && pages.Test(pfn, PG.Active))
            || pages.Test(pfn, PG.Unevictable) || !pages.PageLru(pfn)) return;
        var zone = node.ZoneOf(pfn);
        zone.LruLock.Lock();
        if (pages.PageLru(pfn) && (takesActive || !pages.Test(pfn, PG.Active)))
        {
            DelPageFromLruList(zone, pfn, LruListOf(pfn));
            pages.Clear(pfn, PG.Active);
            int lru = LruListOf(pfn);
            lists.AddTail(pfn, zone.LruHead[lru]); // add_page_to_lru_list_tail
            zone.Stat.Add((int)ZoneStat.NrInactiveAnon + lru, 1);
            vmstat.Count(VmEvent.Pgrotated);
        }
        zone.LruLock.Unlock();
    }

    /// <summary>
    /// putback_lru_page (v3.16): clear PG_unevictable, put the page back on an LRU list (every page is
    /// evictable here: no mlock, no unevictable mappings), then drop the isolation reference. A page whose
    /// last reference was the isolation one is freed, as the pagevec release does in the kernel.
    /// </summary>
    [Preemptible]
    public void PutbackLruPage(int pfn)
    {
        if (pages.PageLru(pfn))
            sanitizer.Report(ReportKind.VmBug, pfn, "VM_BUG_ON_PAGE(PageLRU(page)) in putback_lru_page");
        pages.Clear(pfn, PG.Unevictable);
        LruCacheAdd(pfn);
        PutPage(pfn);
    }

    /// <summary>
    /// put_page of an order-0 page: put_page_testzero first, so nobody can take a new reference, then
    /// __page_cache_release takes the page off its LRU list under lru_lock (page_off_lru clears PG_active and
    /// PG_unevictable), then the page is freed.
    /// </summary>
    [Preemptible]
    public void PutPage(int pfn)
    {
        if (pages.Count[pfn] != 1)
        {
            buddy.PutPage(pfn); // not the last reference (or a VM_BUG report for a free page)
            return;
        }
        pages.Count[pfn] = 0;
        if (pages.PageLru(pfn))
        {
            var zone = node.ZoneOf(pfn);
            zone.LruLock.Lock();
            if (pages.PageLru(pfn))
            {
                DelPageFromLruList(zone, pfn, LruListOf(pfn));
                pages.Clear(pfn, PG.Lru | PG.Active | PG.Unevictable);
            }
            zone.LruLock.Unlock();
        }
        buddy.FreePages(pfn, 0);
    }
}
