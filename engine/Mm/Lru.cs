using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The per-zone LRU lists of v3.16 (mm/vmscan.c, mm/swap.c, include/linux/mm_inline.h), changed only under
/// <c>zone-&gt;lru_lock</c>. Per-cpu pagevecs are not modelled: <c>lru_cache_add</c> puts the page on its list at
/// once, which is what a pagevec drain does a little later in the kernel.
/// </summary>
internal sealed class Lru(PageTable pages, PageLists lists, Node node, IBuddyAllocator buddy, MappingTable mappings, Sanitizer sanitizer)
{
    /// <summary>page_is_file_cache(): not swap-backed. Balloon pages have no PG_swapbacked, so they count as file.</summary>
    public bool PageIsFileCache(int pfn) => !pages.Test(pfn, PG.SwapBacked);

    /// <summary>page_lru(): unevictable, else the anon/file base list, + 1 if PG_active.</summary>
    public int LruListOf(int pfn)
    {
        if (pages.Test(pfn, PG.Unevictable)) return Zone.LruUnevictable;
        int lru = PageIsFileCache(pfn) ? Zone.LruInactiveFile : Zone.LruInactiveAnon;
        return pages.Test(pfn, PG.Active) ? lru + 1 : lru;
    }

    /// <summary>add_page_to_lru_list: at the head; NR_INACTIVE_ANON.. (NR_LRU_BASE + lru) += 1. Caller holds lru_lock.</summary>
    public void AddPageToLruList(Zone zone, int pfn, int lru)
    {
        lists.Add(pfn, zone.LruHead[lru]);
        zone.Stat[(int)ZoneStat.NrInactiveAnon + lru]++;
    }

    /// <summary>del_page_from_lru_list. Caller holds lru_lock.</summary>
    public void DelPageFromLruList(Zone zone, int pfn, int lru)
    {
        lists.Del(pfn);
        zone.Stat[(int)ZoneStat.NrInactiveAnon + lru]--;
    }

    /// <summary>
    /// __isolate_lru_page (v3.16): only LRU pages; unevictable ones only with ISOLATE_UNEVICTABLE; in async mode
    /// not under writeback, and not dirty unless the mapping can migrate without blocking; then
    /// get_page_unless_zero and clear PG_lru. The caller holds lru_lock and takes the page off its list.
    /// Returns 0, -EINVAL or -EBUSY.
    /// </summary>
    public int IsolateLruPageLocked(int pfn, IsolateMode mode)
    {
        const int EInval = -22, EBusy = -16;
        if (!pages.PageLru(pfn)) return EInval;
        if (pages.Test(pfn, PG.Unevictable) && (mode & IsolateMode.Unevictable) == 0) return EInval;
        if ((mode & IsolateMode.AsyncMigrate) != 0)
        {
            if (pages.Test(pfn, PG.Writeback)) return EBusy;
            if (pages.Test(pfn, PG.Dirty))
            {
                int mapping = Rmap.PageMapping(pages, pfn);
                if (mapping != 0 && mappings.MigratePage(mapping) == MigratePageOp.None) return EBusy;
            }
        }
        if (pages.Count[pfn] == 0) return EBusy; // get_page_unless_zero failed: being freed
        pages.Count[pfn]++;
        pages.Clear(pfn, PG.Lru);
        return 0;
    }

    /// <summary>isolate_lru_page (v3.16): take lru_lock, isolate with a reference, unlink. 0 or -EBUSY.</summary>
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

    /// <summary>lru_cache_add + __pagevec_lru_add_fn: SetPageLRU and add to the list page_lru() names.</summary>
    public void LruCacheAdd(int pfn)
    {
        var zone = node.ZoneOf(pfn);
        zone.LruLock.Lock();
        if (pages.PageLru(pfn))
            sanitizer.Report(ReportKind.VmBug, pfn, "VM_BUG_ON_PAGE(PageLRU(page)) in __pagevec_lru_add_fn");
        else
        {
            pages.Set(pfn, PG.Lru);
            AddPageToLruList(zone, pfn, LruListOf(pfn));
        }
        zone.LruLock.Unlock();
    }

    /// <summary>
    /// putback_lru_page (v3.16): clear PG_unevictable, put the page back on an LRU list (every page is
    /// evictable here: no mlock, no unevictable mappings), then drop the isolation reference. A page whose
    /// last reference was the isolation one is freed, as the pagevec release does in the kernel.
    /// </summary>
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
