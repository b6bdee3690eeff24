using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Swap;

/// <summary>
/// Swap-in with readahead (v3.16 mm/swap_state.c: lookup_swap_cache, swapin_nr_pages, swapin_readahead,
/// read_swap_cache_async, read in TROVON v3.16; 6.1.78 the same as swap_cluster_readahead, read in the Natsume324 tree,
/// which 6.1 takes for swap on a rotational disk, as a virtio-blk disk is to a guest): a fault that misses the swap cache reads the page_cluster-aligned window of slots
/// around its slot into the swap cache, each page allocated, added and read (pswpin), then its own. The window is
/// sized from the readahead hits since the last such fault (swapin_nr_pages' "+ 2" heuristic, the same in both
/// versions), 4 at boot: the first fault reads a whole window of 2^page_cluster = 8, later ones at least half the last
/// window, down to one page while faults are neither hits nor at adjacent slots. What each
/// version reads and counts differs (<see cref="V3_16.SwapinReadahead"/>, <see cref="V6_1.SwapClusterReadahead"/>).
/// </summary>
internal abstract partial class SwapReadahead(PageTable pages, IPageAllocator allocator, IBuddyAllocator buddy, Lru lru, SwapCache swapCache,
    VmStat vmstat, FaultGfp faultGfp) : ISnapshotState
{
    /// <summary>workingset_refault of a page read into the swap cache in place of a shadow entry (6.1; v3.16 leaves none).</summary>
    protected abstract void Refault(int page, long shadow);

    /// <summary>page_cluster as swap_setup sets it on machines of 16 MiB and more (every guest here): windows of up to 8 slots.</summary>
    private const int PageCluster = 3;

    // Plain fields, not a SharedArray recorded for partial-order reduction: swap-ins come only from workload.touch,
    // which no race operation runs, so no explored path reaches them.
    private int _readaheadHits = 4;  // swapin_readahead_hits: ATOMIC_INIT(4) in both versions' swap_state.c
    private int _prevOffset;         // swapin_nr_pages' static prev_offset
    private int _lastReadaheadPages; // and its last_readahead_pages

    protected SwapArea Area => swapCache.Area;

    protected VmStat Vmstat => vmstat;

    protected PageTable Pages => pages;

    public object Save() => (_readaheadHits, _prevOffset, _lastReadaheadPages);

    public void Restore(object saved) => (_readaheadHits, _prevOffset, _lastReadaheadPages) = ((int, int, int))saved;

    /// <summary>
    /// lookup_swap_cache: the slot's swap-cache page with a reference taken (find_get_page), or -1. A page that was read
    /// ahead (PG_readahead, tested and cleared) is a readahead hit, which the next window grows with.
    /// </summary>
    public int LookupSwapCache(int slot)
    {
        int page = FindGetPage(slot);
        if (page >= 0 && pages.Test(page, PG.Readahead))
        {
            pages.Clear(page, PG.Readahead);
            _readaheadHits++;
            CountReadaheadHit();
        }
        return page;
    }

    /// <summary>
    /// swapin_readahead: read the window around <paramref name="slot"/> (slot 0, the swap header, never), marking the
    /// pages beyond the faulting one PG_readahead, drain this CPU's pagevec onto the LRU, then read_swap_cache_async of
    /// the slot itself. Returns its page with a reference taken, or -1 if no page could be had (out of memory, or the
    /// slot was freed meanwhile).
    /// </summary>
    [Preemptible]
    public int SwapinReadahead(int slot)
    {
        int mask = SwapinNrPages(slot) - 1;
        if (mask != 0)
        {
            // 6.1 stops the window at the area's last slot; an area here is whole MiB (slot 0 the header), so its last slot
            // ends an aligned window and neither version ever passes it.
            int start = Math.Max(slot & ~mask, 1), end = slot | mask;
            for (int offset = start; offset <= end; offset++)
            {
                int page = ReadSwapCacheAsync(offset, out bool allocated);
                if (page < 0) continue;
                if (offset != slot) MarkReadahead(page, allocated);
                lru.PutPage(page); // page_cache_release: the swap cache keeps it
            }
            lru.LruAddDrain();
        }
        return ReadSwapCacheAsync(slot, out _);
    }

    /// <summary>
    /// swapin_nr_pages (v3.16; 6.1's __swapin_nr_pages computes the same): hits since the last call + 2, rounded up to
    /// a power of two from 4; with no hits, 2 if the fault is next to the last one without hits, else 1; at most 8; and
    /// never less than half the last window (so it does not shrink too fast).
    /// </summary>
    private int SwapinNrPages(int offset)
    {
        int nrPages = _readaheadHits + 2;
        _readaheadHits = 0;
        if (nrPages == 2)
        {
            if (offset != _prevOffset + 1 && offset != _prevOffset - 1) nrPages = 1;
            _prevOffset = offset;
        }
        else
        {
            int roundup = 4;
            while (roundup < nrPages) roundup <<= 1;
            nrPages = roundup;
        }
        nrPages = Math.Max(Math.Min(nrPages, 1 << PageCluster), _lastReadaheadPages / 2);
        _lastReadaheadPages = nrPages;
        return nrPages;
    }

    /// <summary>
    /// read_swap_cache_async: the slot's swap-cache page if there is one; else (unless the version skips a slot no page
    /// table refers to) a new page, which another CPU may have beaten to the slot meanwhile (swapcache_prepare's
    /// -EEXIST: its page is found and the new one freed), or which finds the slot free and is freed; else it joins the swap cache, goes on the LRU through this CPU's pagevec and is read (swap_readpage:
    /// pswpin, and 8 sectors of pgpgin; the read completes at once at this level). The page comes back with a reference
    /// (<paramref name="allocated"/>: it was read now), or -1.
    /// </summary>
    private int ReadSwapCacheAsync(int slot, out bool allocated)
    {
        allocated = false;
        int page = FindGetPage(slot);
        if (page >= 0 || SkipsUnusedSlot(slot)) return page;
        int fresh = allocator.AllocPages(0, faultGfp.SwapIn); // alloc_page_vma
        if (fresh < 0) return -1;
        page = FindGetPage(slot);
        if (page >= 0 || !Area.SwapcachePrepare(slot))
        {
            buddy.PutPage(fresh);
            return page;
        }
        // Not anonymous until a fault maps it (do_page_add_anon_rmap); swap-backed, locked while the read runs.
        pages.Mapping[fresh] = 0;
        pages.Index[fresh] = 0;
        pages.Flags[fresh] = (uint)(PG.SwapBacked | PG.Uptodate);
        pages.Kind[fresh] = (byte)PageKind.Anon;
        long shadow = swapCache.AddReadPage(fresh, slot);
        if (shadow != 0) Refault(fresh, shadow);
        lru.LruCacheAdd(fresh);
        vmstat.Count(VmEvent.Pswpin);
        vmstat.CountPageBio(VmEvent.Pgpgin);
        allocated = true;
        return fresh;
    }

    /// <summary>find_get_page in the swap address space: the slot's page with a reference taken, or -1.</summary>
    private int FindGetPage(int slot)
    {
        int page = Area.CachePage[slot];
        if (page >= 0) pages.Count[page]++;
        return page;
    }

    /// <summary>Whether read_swap_cache_async gives up on a slot no page table refers to before allocating a page for it.</summary>
    protected abstract bool SkipsUnusedSlot(int slot);

    /// <summary>A page the window brought back besides the faulting one (<paramref name="allocated"/>: read just now).</summary>
    protected abstract void MarkReadahead(int page, bool allocated);

    /// <summary>lookup_swap_cache found a page read ahead.</summary>
    protected abstract void CountReadaheadHit();
}
