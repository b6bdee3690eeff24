using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Swap;

/// <summary>
/// One swap area of <see cref="SimulationOptions.SwapMib"/> (mm/swapfile.c, v3.16): <c>swap_map</c> per slot
/// (the page-table references, plus SWAP_HAS_CACHE while a swap-cache page exists), slot 0 the header,
/// <c>nr_swap_pages</c> free and <c>total_swap_pages</c> usable slots. Slots are handed out by
/// <see cref="ScanSwapMapSlots"/> (a rotational device's: a virtio-blk disk), as the design's <see cref="ISwapSlots"/>
/// asks for them. The data of a swapped-out page is its content token, kept per slot while no page holds it.
/// </summary>
internal sealed class SwapArea : ISnapshotState
{
    /// <summary>SWAP_HAS_CACHE in a swap_map entry.</summary>
    public const int HasCache = 0x40;
    /// <summary>SWAP_BATCH: the most slots one get_swap_pages hands out.</summary>
    public const int SwapBatch = 64;
    /// <summary>SWAPFILE_CLUSTER: the run of slots a rotational device's allocations fill before they look for another.</summary>
    public const int SwapfileCluster = 256;
    /// <summary>LATENCY_LIMIT: slots scanned between breaks (cond_resched; a batch ends there).</summary>
    private const int LatencyLimit = 256;

    private readonly int[] _map;
    private readonly long[] _content;
    private readonly ISwapSlots _slots;
    // swap_info_struct: cluster_next and cluster_nr (the slots left of the current cluster), lowest_bit and highest_bit
    // (bounds of the free slots, kept as swap_range_alloc and swap_range_free keep them). Its inuse_pages is InUse.
    private int _clusterNext = 1, _clusterNr, _lowestBit, _highestBit;

    [NotState("wiring: the swap cache's __try_to_reclaim_swap, set when the cache is built")]
    private Func<int, bool>? _tryToReclaimSwap;

    public SwapArea(SimulationOptions options, ISwapSlots slots)
    {
        _slots = slots;
        int pages = checked((int)(options.SwapMib * 256));
        TotalSwapPages = Math.Max(0, pages - 1);
        NrSwapPages = TotalSwapPages;
        (_lowestBit, _highestBit) = (1, (int)TotalSwapPages);
        _map = new int[TotalSwapPages + 1];
        _content = new long[TotalSwapPages + 1];
        CachePage = new int[TotalSwapPages + 1];
        Array.Fill(CachePage, -1);
        Shadow = new long[TotalSwapPages + 1];
    }

    /// <summary><c>total_swap_pages</c>: usable slots (0 = no swap).</summary>
    public long TotalSwapPages { get; }
    /// <summary><c>nr_swap_pages</c> (get_nr_swap_pages): free slots.</summary>
    public long NrSwapPages { get; private set; }
    /// <summary>The content token each slot holds while no page does (0 = none); <see cref="SetContent"/> writes it.</summary>
    public ReadOnlySpan<long> Content => _content;

    /// <summary>Slots holding a token: with <see cref="ContentHash"/>, what the checks after an operation add up instead of
    /// reading every slot (a guest with swap would otherwise pay for its size at every operation).</summary>
    public long ContentSlots { get; private set; }

    /// <summary>Σ <see cref="PageContents.Mix"/> over the tokens the slots hold (mod 2^64).</summary>
    public ulong ContentHash { get; private set; }

    /// <summary>Slot <paramref name="slot"/> holds <paramref name="token"/> from now on (0 = none).</summary>
    public void SetContent(int slot, long token)
    {
        long old = _content[slot];
        if (old != 0)
        {
            ContentSlots--;
            ContentHash -= PageContents.Mix(old);
        }
        if (token != 0)
        {
            ContentSlots++;
            ContentHash += PageContents.Mix(token);
        }
        _content[slot] = token;
    }

    /// <summary>The swap-cache page of a slot (the swap address space's radix tree), or -1.</summary>
    public int[] CachePage { get; }

    /// <summary>
    /// The shadow entry the swap address space holds for a slot without a page (6.1: reclaim's workingset_eviction left
    /// it in __delete_from_swap_cache), or 0. A page entering the swap cache takes its place; freeing the slot clears it
    /// (swap_range_free's clear_shadow_from_swap_cache). v3.16 leaves none for anonymous pages.
    /// </summary>
    public long[] Shadow { get; }

    /// <summary>Pages in the swap cache (6.1's NR_SWAPCACHE, which add_to_swap_cache and __delete_from_swap_cache keep).</summary>
    public long SwapCachePages()
    {
        long n = 0;
        foreach (int page in CachePage)
            if (page >= 0) n++;
        return n;
    }

    public object Save() =>
        (_map.Clone(), (_clusterNext, _clusterNr, _lowestBit, _highestBit), NrSwapPages, _content.Clone(), CachePage.Clone(),
            Shadow.Clone(), ContentSlots, ContentHash);

    public void Restore(object saved)
    {
        var (map, scan, nrSwapPages, content, cachePage, shadow, contentSlots, contentHash) =
            ((object, (int, int, int, int), long, object, object, object, long, ulong))saved;
        ((int[])map).CopyTo(_map, 0);
        ((long[])content).CopyTo(_content, 0);
        ((int[])cachePage).CopyTo(CachePage, 0);
        ((long[])shadow).CopyTo(Shadow, 0);
        (_clusterNext, _clusterNr, _lowestBit, _highestBit) = scan;
        NrSwapPages = nrSwapPages;
        (ContentSlots, ContentHash) = (contentSlots, contentHash);
    }

    /// <summary>vm_swap_full(): less than half of swap free.</summary>
    public bool VmSwapFull => NrSwapPages * 2 < TotalSwapPages;

    /// <summary>vm_swap_full() inside get_swap_pages, which took the <paramref name="pending"/> slots it is still looking
    /// for off nr_swap_pages before the scan.</summary>
    private bool VmSwapFullWhileTaking(int pending) => (NrSwapPages - pending) * 2 < TotalSwapPages;

    /// <summary>The swap cache of this area (its swap address space): <paramref name="tryToReclaimSwap"/> is its
    /// __try_to_reclaim_swap, which the slot scan calls for a slot only the swap cache holds while swap is over half full.</summary>
    public void SetSwapCache(Func<int, bool> tryToReclaimSwap) => _tryToReclaimSwap = tryToReclaimSwap;

    /// <summary>A slot for a page entering the swap cache (get_swap_page, v3.16; folio_alloc_swap, 6.1), or -1 when swap is full.</summary>
    public int GetSwapPage() => _slots.AllocSwap(this);

    /// <summary>
    /// get_swap_pages: up to <paramref name="goal"/> free slots (no more than <see cref="SwapBatch"/> nor what is free)
    /// into <paramref name="into"/>, each marked SWAP_HAS_CACHE and taken off nr_swap_pages; how many.
    /// </summary>
    public int GetSwapPages(int goal, Span<int> into)
    {
        int n = (int)Math.Min(Math.Min(goal, SwapBatch), NrSwapPages);
        return n > 0 ? ScanSwapMapSlots(n, into) : 0;
    }

    /// <summary>
    /// scan_swap_map_slots (6.1.78; with <paramref name="nr"/> 1 it is v3.16's scan_swap_map) of a rotational device,
    /// whose swap_info has no cluster_info: slots are taken in runs of <see cref="SwapfileCluster"/> from cluster_next;
    /// when a run is used up, the first wholly free run from lowest_bit up starts the next one, or, if there is none,
    /// the scan goes on from lowest_bit; a slot in use sends the first slot's scan on up to highest_bit and round from
    /// lowest_bit to where it started. A batch takes the following slots while they are free and in its run, or a
    /// short scan finds more (up to highest_bit, or to where it started once it has wrapped), and stops at highest_bit
    /// or after <see cref="LatencyLimit"/> slots looked at. While swap is over half full (vm_swap_full) a slot only the
    /// swap cache holds is worth stopping at, as a free one is: the swap cache's __try_to_reclaim_swap is asked to free it
    /// (the kernel drops si-&gt;lock for it, so other CPUs may run) and the checks look at it again if it did, else the
    /// scan goes on past it. In 6.1 a freed slot goes to this CPU's slots cache while that is on, still SWAP_HAS_CACHE
    /// and without a page, so the second look passes it by, as in the kernel.
    /// </summary>
    private int ScanSwapMapSlots(int nr, Span<int> slots)
    {
        int n = 0, latencyRation = LatencyLimit;
        bool scannedMany = false;
        int scanBase = _clusterNext, offset = scanBase;
        if (_clusterNr-- == 0)
        {
            _clusterNr = SwapfileCluster - 1;
            if (NrSwapPages >= SwapfileCluster) // si->pages - si->inuse_pages
            {
                scanBase = offset = _lowestBit;
                bool found = false;
                // Locate the first empty (unaligned) cluster.
                for (int last = offset + SwapfileCluster - 1; last <= _highestBit; offset++)
                {
                    if (_map[offset] != 0) last = offset + SwapfileCluster;
                    else if (found = offset == last) break;
                    if (--latencyRation < 0) latencyRation = LatencyLimit;
                }
                if (found) _clusterNext = offset -= SwapfileCluster - 1;
                else offset = scanBase;
            }
        }
        while (true)
        {
            // checks:
            if (_highestBit == 0) return n;
            if (offset > _highestBit) scanBase = offset = _lowestBit;
            // Reuse the slot of a cache-only page if not busy: freed, it is looked at again; else the scan goes on past it,
            // even with slots in hand (any other slot in use ends a batch that has some).
            bool cacheOnly = _map[offset] == HasCache && VmSwapFullWhileTaking(nr - n);
            if (cacheOnly && _tryToReclaimSwap?.Invoke(offset) == true) continue;
            if (_map[offset] != 0)
            {
                if (n > 0 && !cacheOnly) break;
                if (!Scan(ref offset, scanBase, ref latencyRation, ref scannedMany, nr - n)) return n;
                continue;
            }
            _map[offset] = HasCache;
            SwapRangeAlloc(offset);
            slots[n++] = offset;
            if (n == nr || offset >= _highestBit) break;
            if (--latencyRation < 0) break; // time to take a break, with slots in hand
            if (_clusterNr > 0 && _map[++offset] == 0)
            {
                --_clusterNr;
                continue;
            }
            if (!scannedMany && QuickScan(ref offset, scanBase, ref latencyRation)) continue;
            break;
        }
        _clusterNext = offset + 1; // done: set_cluster_next
        return n;
    }

    /// <summary>The batch's quick scan with the lock held: the next free slot up to highest_bit, or to scan_base once wrapped.</summary>
    private bool QuickScan(ref int offset, int scanBase, ref int latencyRation)
    {
        int limit = offset < scanBase ? scanBase : _highestBit;
        for (; offset <= limit && --latencyRation > 0; offset++)
            if (_map[offset] == 0) return true;
        return false;
    }

    /// <summary>scan: the next available slot above <paramref name="offset"/> up to highest_bit, then from lowest_bit up to
    /// scan_base; false if none.</summary>
    private bool Scan(ref int offset, int scanBase, ref int latencyRation, ref bool scannedMany, int pending)
    {
        while (++offset <= _highestBit)
        {
            if (--latencyRation < 0) (latencyRation, scannedMany) = (LatencyLimit, true);
            if (Available(offset, pending)) return true;
        }
        for (offset = _lowestBit; offset < scanBase; offset++)
        {
            if (--latencyRation < 0) (latencyRation, scannedMany) = (LatencyLimit, true);
            if (Available(offset, pending)) return true;
        }
        return false;
    }

    /// <summary>swap_offset_available_and_locked (6.1.78; v3.16's scan loop asks the same): free, or only the swap cache's
    /// while swap is over half full.</summary>
    private bool Available(int offset, int pending) =>
        _map[offset] == 0 || _map[offset] == HasCache && VmSwapFullWhileTaking(pending);

    /// <summary>swap_range_alloc of one slot: lowest_bit and highest_bit step past it, one more in use (one fewer of
    /// nr_swap_pages, which get_swap_pages takes); a full area has no bounds.</summary>
    private void SwapRangeAlloc(int offset)
    {
        if (offset == _lowestBit) _lowestBit++;
        if (offset == _highestBit) _highestBit--;
        if (--NrSwapPages == 0) (_lowestBit, _highestBit) = ((int)TotalSwapPages + 1, 0);
    }

    /// <summary>get_swap_pages(1, ...): one slot straight from the area, marked SWAP_HAS_CACHE, or -1 when swap is full.</summary>
    public int GetOneSwapPage()
    {
        Span<int> slot = stackalloc int[1];
        return GetSwapPages(1, slot) == 1 ? slot[0] : -1;
    }

    /// <summary>swap_entry_free: a slot left at SWAP_HAS_CACHE with no page is free again.</summary>
    public void EntryFree(int slot)
    {
        _map[slot] = 0;
        NrSwapPages++;
        Shadow[slot] = 0; // swap_range_free: clear_shadow_from_swap_cache
        // swap_range_free: the free slots' bounds take it in.
        if (slot < _lowestBit) _lowestBit = slot;
        if (slot > _highestBit) _highestBit = slot;
    }

    /// <summary>swap_duplicate: one more page-table reference to the slot.</summary>
    public void SwapDuplicate(int slot) => _map[slot]++;

    /// <summary>
    /// swapcache_prepare (__swap_duplicate with SWAP_HAS_CACHE): a page is to be read into the swap cache for the slot,
    /// which must be in use (a page table refers to it) and not SWAP_HAS_CACHE yet. False for a slot no longer in use
    /// (-ENOENT) or already SWAP_HAS_CACHE (-EEXIST): a slot with a cache page, which the caller looks for first, or one
    /// whose last user went while 6.1's slots cache holds it (free_swap_slot's return list), which read_swap_cache_async
    /// then finds with a swap count of 0 and gives up on.
    /// </summary>
    public bool SwapcachePrepare(int slot)
    {
        if ((_map[slot] & HasCache) != 0 || _map[slot] == 0) return false;
        _map[slot] |= HasCache;
        return true;
    }

    /// <summary>swap_free: a page-table reference dropped.</summary>
    public void SwapFree(int slot)
    {
        _map[slot]--;
        Release(slot);
    }

    /// <summary>swapcache_free: the swap-cache page is gone, <paramref name="shadow"/> (or nothing) left in its place.</summary>
    public void SwapcacheFree(int slot, long shadow = 0)
    {
        _map[slot] &= ~HasCache;
        CachePage[slot] = -1;
        Shadow[slot] = shadow;
        Release(slot);
    }

    /// <summary>page_swapcount: the page-table references to the slot.</summary>
    public int Swapcount(int slot) => _map[slot] & ~HasCache;

    /// <summary>Slots in use (swap_map non-zero).</summary>
    public long InUse => TotalSwapPages - NrSwapPages;

    /// <summary>Its last user gone (__swap_entry_free_locked found no use left), the slot stays SWAP_HAS_CACHE until the
    /// design's slots policy frees it; the data it held is dead.</summary>
    private void Release(int slot)
    {
        if (_map[slot] != 0) return;
        SetContent(slot, 0);
        _map[slot] = HasCache;
        _slots.FreeSwapSlot(this, slot);
    }
}
