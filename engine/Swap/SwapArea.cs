using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Swap;

/// <summary>
/// One swap area of <see cref="SimulationOptions.SwapMib"/> (mm/swapfile.c, v3.16): <c>swap_map</c> per slot
/// (the page-table references, plus SWAP_HAS_CACHE while a swap-cache page exists), slot 0 the header,
/// <c>nr_swap_pages</c> free and <c>total_swap_pages</c> usable slots. Slots are handed out at a moving cursor
/// (scan_swap_map, without its preference for fresh 256-slot clusters), as the design's <see cref="ISwapSlots"/> asks
/// for them. The data of a swapped-out page is its content token, kept per slot while no page holds it.
/// </summary>
internal sealed class SwapArea : ISnapshotState
{
    /// <summary>SWAP_HAS_CACHE in a swap_map entry.</summary>
    public const int HasCache = 0x40;
    /// <summary>SWAP_BATCH: the most slots one get_swap_pages hands out.</summary>
    public const int SwapBatch = 64;

    private readonly int[] _map;
    private readonly long[] _content;
    private readonly ISwapSlots _slots;
    private int _clusterNext = 1;

    public SwapArea(SimulationOptions options, ISwapSlots slots)
    {
        _slots = slots;
        int pages = checked((int)(options.SwapMib * 256));
        TotalSwapPages = Math.Max(0, pages - 1);
        NrSwapPages = TotalSwapPages;
        _map = new int[TotalSwapPages + 1];
        _content = new long[TotalSwapPages + 1];
        CachePage = new int[TotalSwapPages + 1];
        Array.Fill(CachePage, -1);
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

    /// <summary>Pages in the swap cache (6.1's NR_SWAPCACHE, which add_to_swap_cache and __delete_from_swap_cache keep).</summary>
    public long SwapCachePages()
    {
        long n = 0;
        foreach (int page in CachePage)
            if (page >= 0) n++;
        return n;
    }

    public object Save() =>
        (_map.Clone(), _clusterNext, NrSwapPages, _content.Clone(), CachePage.Clone(), ContentSlots, ContentHash);

    public void Restore(object saved)
    {
        var (map, clusterNext, nrSwapPages, content, cachePage, contentSlots, contentHash) =
            ((object, int, long, object, object, long, ulong))saved;
        ((int[])map).CopyTo(_map, 0);
        ((long[])content).CopyTo(_content, 0);
        ((int[])cachePage).CopyTo(CachePage, 0);
        (_clusterNext, NrSwapPages) = (clusterNext, nrSwapPages);
        (ContentSlots, ContentHash) = (contentSlots, contentHash);
    }

    /// <summary>vm_swap_full(): less than half of swap free.</summary>
    public bool VmSwapFull => NrSwapPages * 2 < TotalSwapPages;

    /// <summary>A slot for a page entering the swap cache (get_swap_page, v3.16; folio_alloc_swap, 6.1), or -1 when swap is full.</summary>
    public int GetSwapPage() => _slots.AllocSwap(this);

    /// <summary>
    /// get_swap_pages: up to <paramref name="goal"/> free slots (no more than <see cref="SwapBatch"/> nor what is free)
    /// into <paramref name="into"/>, each marked SWAP_HAS_CACHE and taken off nr_swap_pages; how many.
    /// </summary>
    public int GetSwapPages(int goal, Span<int> into)
    {
        int n = (int)Math.Min(Math.Min(goal, SwapBatch), NrSwapPages);
        int got = 0;
        for (int i = 0; i < TotalSwapPages && got < n; i++)
        {
            int slot = _clusterNext;
            _clusterNext = slot == TotalSwapPages ? 1 : slot + 1;
            if (_map[slot] != 0) continue;
            _map[slot] = HasCache;
            into[got++] = slot;
        }
        NrSwapPages -= got;
        return got;
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

    /// <summary>swapcache_free: the swap-cache page is gone.</summary>
    public void SwapcacheFree(int slot)
    {
        _map[slot] &= ~HasCache;
        CachePage[slot] = -1;
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
