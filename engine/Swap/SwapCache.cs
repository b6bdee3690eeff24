using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Swap;

/// <summary>
/// The swap cache of v3.16 mm/swap_state.c at the level of page state: a page in it has PG_swapcache,
/// <c>page-&gt;private</c> = its slot, a reference held by the cache, and counts in NR_FILE_PAGES; its
/// <c>page_mapping()</c> is the swap address space (<see cref="MappingTable.SwapperSpace"/>).
/// </summary>
internal sealed partial class SwapCache
{
    private readonly PageTable pages;
    private readonly Node node;
    private readonly SwapArea swap;
    private readonly Lru lru;
    private readonly PageContents contents;
    private readonly PageLock pageLock;
    private readonly PageRefs refs;
    private readonly Host.RamBlock ram;

    public SwapCache(PageTable pages, Node node, SwapArea swap, Lru lru, PageContents contents, PageLock pageLock, PageRefs refs,
        Host.RamBlock ram)
    {
        (this.pages, this.node, this.swap, this.lru, this.contents, this.pageLock, this.refs, this.ram) =
            (pages, node, swap, lru, contents, pageLock, refs, ram);
        swap.SetSwapCache(TryToReclaimSwap);
    }

    public SwapArea Area => swap;

    /// <summary>
    /// add_to_swap: a slot for a locked anonymous page not yet in the swap cache, then add_to_swap_cache (the
    /// cache's reference, PG_swapcache, private = slot, NR_FILE_PAGES) and SetPageDirty. False when swap is full.
    /// </summary>
    public bool AddToSwap(int pfn)
    {
        int slot = swap.GetSwapPage();
        if (slot < 0) return false;
        pages.Count[pfn]++;
        pages.Set(pfn, PG.SwapCache | PG.Dirty);
        pages.Private[pfn] = slot;
        swap.CachePage[slot] = pfn;
        swap.Shadow[slot] = 0;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrFilePages, 1);
        return true;
    }

    /// <summary>
    /// read_swap_cache_async after swapcache_prepare succeeded (SWAP_HAS_CACHE, so the slot stays allocated while the
    /// page is in the cache, after the faulting PTE's swap_free): a new page for <paramref name="slot"/> joins the cache
    /// (__add_to_swap_cache), the slot's data moving onto the page. Returns the shadow entry the page replaced (0: none).
    /// </summary>
    public long AddReadPage(int pfn, int slot)
    {
        pages.Count[pfn]++;
        pages.Set(pfn, PG.SwapCache);
        pages.Private[pfn] = slot;
        swap.CachePage[slot] = pfn;
        long shadow = swap.Shadow[slot];
        swap.Shadow[slot] = 0;
        pages.Content[pfn] = swap.Content[slot];
        swap.SetContent(slot, 0);
        ram.Write(pfn); // swap_readpage: the read's DMA writes the frame
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrFilePages, 1);
        return shadow;
    }

    /// <summary>
    /// __delete_from_swap_cache + swapcache_free (page locked, not under writeback); the caller deals with the
    /// cache's page reference. With <paramref name="keepDataOnSlot"/> (the page is being freed by reclaim) the
    /// data stays on the slot for a later swap-in, and <paramref name="shadow"/> (6.1 reclaim's workingset_eviction) in
    /// the page's place.
    /// </summary>
    public void Delete(int pfn, bool keepDataOnSlot, long shadow = 0)
    {
        int slot = pages.Private[pfn];
        if (keepDataOnSlot)
        {
            swap.SetContent(slot, pages.Content[pfn]);
            pages.Content[pfn] = 0;
        }
        pages.Clear(pfn, PG.SwapCache);
        pages.Private[pfn] = 0;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrFilePages, -1);
        swap.SwapcacheFree(slot, shadow);
    }

    /// <summary>
    /// try_to_free_swap (page locked): in the swap cache, not under writeback, and no page table refers to the
    /// slot → leave the cache (delete_from_swap_cache, dropping its reference: put_page, LRU-aware) and SetPageDirty:
    /// the only copy is now in memory.
    /// </summary>
    [Preemptible]
    public bool TryToFreeSwap(int pfn)
    {
        if (!pages.Test(pfn, PG.SwapCache) || pages.Test(pfn, PG.Writeback) || swap.Swapcount(pages.Private[pfn]) != 0) return false;
        Delete(pfn, keepDataOnSlot: false);
        lru.PutPage(pfn);
        pages.Set(pfn, PG.Dirty);
        return true;
    }

    /// <summary>
    /// __try_to_reclaim_swap (v3.16 mm/swapfile.c; 6.1.78 with TTRS_ANYWAY, as scan_swap_map_slots calls it) for a slot
    /// only the swap cache holds, found by the slot scan while swap is over half full: the slot's swap-cache page, if
    /// there is one (6.1's slots cache holds freed slots at SWAP_HAS_CACHE with none) and trylock_page takes it, goes
    /// through try_to_free_swap. True if the slot was freed. The page's last reference is the scan's own
    /// (find_get_page), dropped after unlock_page: a page nobody maps then leaves the LRU and is freed, and its data,
    /// which no page table and no slot refers to, stops existing.
    /// </summary>
    [Preemptible]
    public bool TryToReclaimSwap(int slot)
    {
        int pfn = swap.CachePage[slot];
        if (pfn < 0) return false;
        refs.GetPage(pfn); // find_get_page
        bool freed = false;
        if (pageLock.TryLock(pfn))
        {
            freed = TryToFreeSwap(pfn);
            if (freed && !pages.PageMapped(pfn)) contents.Retire(pfn);
            pageLock.Unlock(pfn);
        }
        lru.PutPage(pfn); // page_cache_release
        return freed;
    }
}
