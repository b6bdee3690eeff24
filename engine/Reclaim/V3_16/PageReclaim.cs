using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// <c>shrink_page_list</c> of v3.16 mm/vmscan.c and what it calls: <c>page_check_references</c>,
/// <c>add_to_swap</c> and <c>try_to_unmap</c> for anonymous pages, <c>pageout</c> (swap_writepage or the file's
/// writepage), <c>__remove_mapping</c>. Direct reclaim never writes a dirty file page (it tags it PG_reclaim and
/// keeps it); kswapd writes them only in a zone flagged ZONE_TAIL_LRU_DIRTY. docs/kernel/reclaim-v3.16.md §2.13–2.16.
/// </summary>
internal sealed class PageReclaim(PageTable pages, PageLists lists, Node node, Lru lru, Rmap rmap, PageLock pageLock, SwapCache swapCache,
    Writeback writeback, PageContents contents, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock)
{
    /// <summary>What one batch held, for shrink_inactive_list's zone flags.</summary>
    internal sealed class BatchStats
    {
        public long Dirty, UnqueuedDirty, Congested, Writeback, Immediate;
        /// <summary>stat-&gt;nr_pageout (6.1's reclaim cost; v3.16 does not count it): pages pageout() sent to the disk.</summary>
        public long Pageout;
    }

    private enum References { Activate, Keep, Reclaim, ReclaimClean }

    private enum Outcome { Keep, KeepLocked, Activate, Free }

    /// <summary>
    /// shrink_page_list (v3.16): try to reclaim every page on <paramref name="list"/>, tail first; freed pages
    /// leave the list, the others stay on it for putback_inactive_pages (activated ones with PG_active). Returns
    /// the pages reclaimed; pgactivate. The reclaim flags read are <paramref name="zone"/>'s, or with no zone (node
    /// reclaim, 6.1) the node's <see cref="Node.PgdatFlags"/>.
    /// </summary>
    public long ShrinkPageList(int list, Zone? zone, ScanControl sc, BatchStats stats)
    {
        using var _ = scheduler.Current.Path.Enter("shrink_page_list");
        int retPages = lists.NewHead();
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
                FreeColdPage(page);
            }
            else lists.Add(page, retPages);
        }
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

    /// <summary>free_hot_cold_page_list(cold) of a page whose last reference reclaim just took: to the allocator.</summary>
    public void FreeColdPage(int page) => buddy.FreePages(page, 0);

    /// <summary>The decision tree of shrink_page_list for one isolated page (the labels keep, keep_locked, activate_locked, free_it).</summary>
    private Outcome Decide(int page, Zone? zone, ScanControl sc, BatchStats stats)
    {
        if (!pageLock.TryLock(page)) return Outcome.Keep;
        sc.NrScanned++;
        bool mapped = pages.PageMapped(page);
        if (!sc.MayUnmap && mapped) return Outcome.KeepLocked;
        if (mapped || pages.Test(page, PG.SwapCache)) sc.NrScanned++;
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
                return Outcome.KeepLocked;
            }
            // Global reclaim never waits for writeback: tag the page so its completion rotates it.
            pages.Set(page, PG.Reclaim);
            stats.Writeback++;
            return Outcome.KeepLocked;
        }

        var references = PageCheckReferences(page);
        if (references == References.Activate) return Outcome.Activate;
        if (references == References.Keep) return Outcome.KeepLocked;

        if (pages.PageAnon(page) && !pages.Test(page, PG.SwapCache))
        {
            if ((sc.GfpMask & Gfp.Io) == 0) return Outcome.KeepLocked;
            if (!swapCache.AddToSwap(page)) return Outcome.Activate;
            mayEnterFs = true;
        }
        int mapping = Rmap.PageMapping(pages, page);
        if (pages.PageMapped(page) && mapping != 0 && !rmap.TryToUnmapForReclaim(page)) return Outcome.Activate;

        if (pages.Test(page, PG.Dirty))
        {
            if (fileCache && (!sc.Kswapd || (ReclaimFlags(zone) & ZoneFlags.TailLruDirty) == 0))
            {
                node.ZoneOf(page).Stat[(int)ZoneStat.NrVmscanImmediate]++;
                pages.Set(page, PG.Reclaim);
                return Outcome.KeepLocked;
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
    private ZoneFlags ReclaimFlags(Zone? zone) => zone?.Flags ?? node.PgdatFlags;

    /// <summary>
    /// page_check_references (v3.16): a swap-backed page referenced through a PTE is activated; a file page
    /// referenced through a PTE is activated if it was referenced before (PG_referenced) or mapped more than once,
    /// else kept with PG_referenced; an unreferenced file page with PG_referenced is reclaimed only if clean.
    /// </summary>
    private References PageCheckReferences(int page)
    {
        int ptes = rmap.PageReferenced(page);
        bool referencedPage = pages.Test(page, PG.Referenced);
        pages.Clear(page, PG.Referenced);
        bool swapBacked = pages.Test(page, PG.SwapBacked);
        if (ptes > 0)
        {
            if (swapBacked) return References.Activate;
            pages.Set(page, PG.Referenced);
            return referencedPage || ptes > 1 ? References.Activate : References.Keep;
        }
        return referencedPage && !swapBacked ? References.ReclaimClean : References.Reclaim;
    }

    private enum PageoutResult { Keep, Success }

    /// <summary>
    /// pageout (v3.16): a page someone else holds is kept; else clear_page_dirty_for_io, SetPageReclaim and
    /// writepage — swap_writepage for a swap-cache page (pswpout), the file's writepage otherwise — which starts
    /// writeback and unlocks the page; nr_vmscan_write. (Only dirty pages get here; our mappings all have a writepage.)
    /// </summary>
    private PageoutResult Pageout(int page, int mapping, bool fileCache)
    {
        using var _ = scheduler.Current.Path.Enter("pageout");
        if (pages.Count[page] != 2 || mapping == 0) return PageoutResult.Keep; // is_page_cache_freeable
        var zone = node.ZoneOf(page);
        pages.Clear(page, PG.Dirty);
        if (fileCache) zone.Stat[(int)ZoneStat.NrDirty]--;
        pages.Set(page, PG.Reclaim);
        if (!fileCache) vmstat.Count(VmEvent.Pswpout);
        pageLock.Unlock(page);
        writeback.StartWriteback(page);
        if (!pages.Test(page, PG.Writeback)) pages.Clear(page, PG.Reclaim);
        zone.Stat[(int)ZoneStat.NrVmscanWrite]++;
        return PageoutResult.Success;
    }

    /// <summary>
    /// __remove_mapping (v3.16): only if exactly the cache's and the isolation's references are left
    /// (page_freeze_refs(page, 2)) and the page is clean: out of the swap cache (its data stays on the slot, unless
    /// no page table refers to the slot any more) or out of the page cache (its data is on disk). The count is 0 after.
    /// </summary>
    private bool RemoveMapping(int page)
    {
        if (pages.Count[page] != 2 || pages.Test(page, PG.Dirty)) return false;
        pages.Count[page] = 0;
        if (pages.Test(page, PG.SwapCache))
        {
            bool referenced = swapCache.Area.Swapcount(pages.Private[page]) > 0;
            if (!referenced) contents.Retire(page);
            swapCache.Delete(page, keepDataOnSlot: referenced);
        }
        else
        {
            node.ZoneOf(page).Stat[(int)ZoneStat.NrFilePages]--; // __delete_from_page_cache
            pages.Mapping[page] = 0;
            contents.Retire(page);
        }
        return true;
    }
}
