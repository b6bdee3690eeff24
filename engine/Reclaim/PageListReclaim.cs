using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using ScanControl = BalloonScript.Engine.Reclaim.V3_16.ScanControl;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// The page-list reclaim of mm/vmscan.c, <c>shrink_page_list</c> (v3.16) / <c>shrink_folio_list</c> (6.1, single
/// pages), as the versions share it: lock, count, check dirty/writeback, references, <c>add_to_swap</c> and
/// <c>try_to_unmap</c> for anonymous pages, <c>pageout</c> (swap_writepage or the file's writepage),
/// <c>__remove_mapping</c>, and activation. What changed between them — the references check, where pages left for
/// I/O go, which dirty file pages are left to the flushers, the nr_scanned count — is each version's
/// (<see cref="V3_16.PageReclaim"/>, <see cref="V6_1.FolioReclaim"/>).
/// </summary>
internal abstract partial class PageListReclaim(PageTable pages, PageLists lists, Node node, Lru lru, Rmap rmap, PageLock pageLock, SwapCache swapCache,
    Writeback writeback, PageContents contents, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock,
    IWorkingset workingset, PageCache pageCache)
{
    /// <summary>The page table, for the versions' checks.</summary>
    protected PageTable Pages => pages;

    /// <summary>rmap, for the versions' references checks (page_referenced / folio_referenced).</summary>
    protected Rmap Rmap => rmap;

    /// <summary>What one batch held, for shrink_inactive_list's zone flags.</summary>
    internal sealed class BatchStats
    {
        public long Dirty, UnqueuedDirty, Congested, Writeback, Immediate;
        /// <summary>stat-&gt;nr_pageout (6.1's reclaim cost; v3.16 does not count it): pages pageout() sent to the disk.</summary>
        public long Pageout;
    }

    /// <summary>enum page_references / folio_references.</summary>
    protected enum References { Activate, Keep, Reclaim, ReclaimClean }

    /// <summary>Where a page ends: the labels keep, keep_locked, activate_locked, free_it.</summary>
    protected enum Outcome { Keep, KeepLocked, Activate, Free }

    /// <summary>The kernel function's name, for the call path.</summary>
    protected abstract string FunctionName { get; }

    /// <summary>
    /// Where a page goes that reclaim leaves for I/O to finish (under writeback, or a dirty file page it will not write
    /// itself): v3.16 keeps it on the inactive list; 4.11+ activates it, out of the way of the clean pages.
    /// </summary>
    protected abstract Outcome WaitForIoOutcome { get; }

    /// <summary>v3.16 counts a mapped or swap-cache page twice in sc-&gt;nr_scanned; 6.1 counts every page once.</summary>
    protected abstract bool CountsMappedPagesTwice { get; }

    /// <summary>
    /// Whether try_to_unmap ignores a young PTE (TTU_IGNORE_ACCESS): v3.16's try_to_unmap_one fails on one, which sends the
    /// page back to the active list; since 5.11 (013339df116c, "mm/rmap: always do TTU_IGNORE_ACCESS") it unmaps the page anyway.
    /// </summary>
    protected abstract bool UnmapIgnoresAccess { get; }

    /// <summary>page_check_references / folio_check_references.</summary>
    protected abstract References CheckReferences(int page);

    /// <summary>Whether a dirty file page is left for the flushers (PG_reclaim, nr_vmscan_immediate_reclaim) rather than written here.</summary>
    protected abstract bool LeaveDirtyFilePage(int page, Zone? zone, ScanControl sc);

    /// <summary>
    /// shrink_page_list / shrink_folio_list: try to reclaim every page on <paramref name="list"/>, tail first; freed
    /// pages leave the list, the others stay on it for the putback (activated ones with PG_active). The freed pages are
    /// gathered as the kernel gathers them (list_add onto <c>free_pages</c>) and given back once the batch is done,
    /// newest first (free_hot_cold_page_list, free_unref_page_list). Returns the pages reclaimed; pgactivate. The reclaim
    /// flags read are <paramref name="zone"/>'s, or with no zone (node reclaim) the node's <see cref="Node.PgdatFlags"/>.
    /// </summary>
    [Preemptible]
    public long ShrinkPageList(int list, Zone? zone, ScanControl sc, BatchStats stats)
    {
        using var _ = scheduler.Current.Path.Enter(FunctionName);
        int retPages = lists.NewHead(), freePages = lists.NewHead();
        long reclaimed = 0, activated = 0;
        while (!lists.Empty(list))
        {
            int page = lists.Prev(list);
            lists.Del(page);
            clock.CondResched();
            var outcome = Decide(page, zone, sc, stats);
            if (outcome == Outcome.Activate)
            {
                if (pages.Test(page, PG.SwapCache) && swapCache.Area.VmSwapFull) swapCache.TryToFreeSwap(page);
                pages.Set(page, PG.Active);
                activated++;
                outcome = Outcome.KeepLocked;
            }
            if (outcome == Outcome.KeepLocked) pageLock.Unlock(page);
            if (outcome == Outcome.Free)
            {
                reclaimed++;
                lists.Add(page, freePages);
            }
            else lists.Add(page, retPages);
        }
        FreePageList(freePages);
        lists.FreeHead(freePages);
        while (!lists.Empty(retPages))
        {
            int page = lists.Prev(retPages);
            lists.Del(page);
            lists.Add(page, list);
        }
        lists.FreeHead(retPages);
        vmstat.Count(VmEvent.Pgactivate, activated);
        return reclaimed;
    }

    /// <summary>
    /// free_hot_cold_page_list(list, true) (v3.16: cold) / free_unref_page_list (6.1): every page on <paramref name="list"/>,
    /// from its head, to the allocator (<see cref="IBuddyAllocator.FreeColdPage"/>); the list is left empty.
    /// </summary>
    [Preemptible]
    public void FreePageList(int list)
    {
        while (!lists.Empty(list))
        {
            int page = lists.Next(list);
            lists.Del(page);
            buddy.FreeColdPage(page);
        }
    }

    /// <summary>The decision tree for one isolated page.</summary>
    [Preemptible]
    private Outcome Decide(int page, Zone? zone, ScanControl sc, BatchStats stats)
    {
        if (!pageLock.TryLock(page)) return Outcome.Keep;
        sc.NrScanned++;
        bool mapped = pages.PageMapped(page);
        if (!sc.MayUnmap && mapped) return Outcome.KeepLocked;
        if (CountsMappedPagesTwice && (mapped || pages.Test(page, PG.SwapCache))) sc.NrScanned++;
        bool mayEnterFs = (sc.GfpMask & Gfp.Fs) != 0 || (pages.Test(page, PG.SwapCache) && (sc.GfpMask & Gfp.Io) != 0);
        bool fileCache = lru.PageIsFileCache(page);
        // page_check_dirty_writeback: anonymous pages report neither.
        bool dirty = fileCache && pages.Test(page, PG.Dirty), underWriteback = fileCache && pages.Test(page, PG.Writeback);
        if (dirty || underWriteback) stats.Dirty++;
        if (dirty && !underWriteback) stats.UnqueuedDirty++;
        if (underWriteback && pages.Test(page, PG.Reclaim)) stats.Congested++;

        if (pages.Test(page, PG.Writeback))
        {
            if (sc.Kswapd && pages.Test(page, PG.Reclaim) && (ReclaimFlags(zone) & ZoneFlags.Writeback) != 0)
            {
                stats.Immediate++;
                return WaitForIoOutcome;
            }
            // Global reclaim never waits for writeback: tag the page so its completion rotates it.
            pages.Set(page, PG.Reclaim);
            stats.Writeback++;
            return WaitForIoOutcome;
        }

        var references = CheckReferences(page);
        if (references == References.Activate) return Outcome.Activate;
        if (references == References.Keep) return Outcome.KeepLocked;

        if (pages.PageAnon(page) && !pages.Test(page, PG.SwapCache))
        {
            if ((sc.GfpMask & Gfp.Io) == 0) return Outcome.KeepLocked;
            if (!swapCache.AddToSwap(page)) return Outcome.Activate;
            mayEnterFs = true;
        }
        int mapping = Rmap.PageMapping(pages, page);
        if (pages.PageMapped(page) && mapping != 0 && !rmap.TryToUnmapSwapCache(page, UnmapIgnoresAccess)) return Outcome.Activate;

        if (pages.Test(page, PG.Dirty))
        {
            if (fileCache && LeaveDirtyFilePage(page, zone, sc))
            {
                node.ZoneOf(page).Stat.Add((int)ZoneStat.NrVmscanImmediate, 1);
                pages.Set(page, PG.Reclaim);
                return WaitForIoOutcome;
            }
            if (references == References.ReclaimClean || !mayEnterFs || !sc.MayWritepage) return Outcome.KeepLocked;
            switch (Pageout(page, mapping, fileCache))
            {
                case PageoutResult.Keep:
                    return Outcome.KeepLocked;
                case PageoutResult.Success:
                    stats.Pageout++;
                    if (pages.Test(page, PG.Writeback) || pages.Test(page, PG.Dirty)) return Outcome.Keep;
                    if (!pageLock.TryLock(page)) return Outcome.Keep;
                    if (pages.Test(page, PG.Dirty) || pages.Test(page, PG.Writeback)) return Outcome.KeepLocked;
                    mapping = Rmap.PageMapping(pages, page);
                    break;
            }
        }
        if (mapping == 0 || !RemoveMapping(page)) return Outcome.KeepLocked;
        pages.Clear(page, PG.Locked); // __clear_page_locked: nobody else can see the page any more
        return Outcome.Free;
    }

    /// <summary>zone-&gt;flags of the zone reclaimed (v3.16), or pgdat-&gt;flags (node reclaim).</summary>
    protected ZoneFlags ReclaimFlags(Zone? zone) => zone?.Flags ?? node.PgdatFlags;

    private enum PageoutResult { Keep, Success }

    /// <summary>
    /// pageout (v3.16, the same in 6.1): a page someone else holds is kept; else clear_page_dirty_for_io, SetPageReclaim and
    /// writepage — swap_writepage for a swap-cache page (pswpout), the file's writepage otherwise — which starts
    /// writeback and unlocks the page; nr_vmscan_write. (Only dirty pages get here; our mappings all have a writepage.)
    /// swap_writepage first tries try_to_free_swap (v3.16; 6.1's folio_free_swap): a page whose slot no page table
    /// names any more (its owner unmapped it while reclaim held it) leaves the swap cache, dirty again, and is not
    /// written; nobody maps it or refers to its slot, so its data stops existing, and shrink_page_list keeps the dirty
    /// page for the putback, which frees it.
    /// </summary>
    [Preemptible]
    private PageoutResult Pageout(int page, int mapping, bool fileCache)
    {
        using var _ = scheduler.Current.Path.Enter("pageout");
        if (pages.Count[page] != 2 || mapping == 0) return PageoutResult.Keep; // is_page_cache_freeable
        var zone = node.ZoneOf(page);
        pages.Clear(page, PG.Dirty);
        if (fileCache) zone.Stat.Add((int)ZoneStat.NrDirty, -1);
        pages.Set(page, PG.Reclaim);
        if (!fileCache && swapCache.TryToFreeSwap(page))
        {
            contents.Retire(page);
            pageLock.Unlock(page);
        }
        else
        {
            if (!fileCache) vmstat.Count(VmEvent.Pswpout);
            // writepage (__swap_writepage, a file's): set_page_writeback, unlock_page, submit_bio, in that order: nobody
            // sees the page unlocked and not yet under writeback (free_swap_and_cache would take it out of the swap cache).
            writeback.SetPageWriteback(page);
            pageLock.Unlock(page);
            writeback.SubmitWrite(page);
        }
        if (!pages.Test(page, PG.Writeback)) pages.Clear(page, PG.Reclaim);
        zone.Stat.Add((int)ZoneStat.NrVmscanWrite, 1);
        return PageoutResult.Success;
    }

    /// <summary>
    /// __remove_mapping (v3.16 and 6.1): only if exactly the cache's and the isolation's references are left
    /// (page_freeze_refs(page, 2)) and the page is clean: out of the swap cache (its data stays on the slot, unless
    /// no page table refers to the slot any more) or out of the page cache (its data is on disk), leaving the version's
    /// workingset shadow entry (<see cref="IWorkingset.Eviction"/>) in its place. The count is 0 after.
    /// </summary>
    private bool RemoveMapping(int page)
    {
        if (pages.Count[page] != 2 || pages.Test(page, PG.Dirty)) return false;
        pages.Count[page] = 0;
        if (pages.Test(page, PG.SwapCache))
        {
            bool referenced = swapCache.Area.Swapcount(pages.Private[page]) > 0;
            if (!referenced) contents.Retire(page);
            swapCache.Delete(page, keepDataOnSlot: referenced, workingset.Eviction(page));
        }
        else
        {
            pageCache.StoreShadow(pages.Mapping[page], pages.Index[page], workingset.Eviction(page)); // __delete_from_page_cache
            node.ZoneOf(page).Stat.Add((int)ZoneStat.NrFilePages, -1);
            pages.Mapping[page] = 0;
            contents.Retire(page);
        }
        return true;
    }
}
