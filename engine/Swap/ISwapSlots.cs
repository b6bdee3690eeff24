namespace BalloonScript.Engine.Swap;

/// <summary>
/// How slots go out of and back into the swap area's pool: straight from it and at once (v3.16's get_swap_page and
/// swap_entry_free), or through 6.1's per-CPU swap slots cache (mm/swap_slots.c: slots fetched and given back in batches).
/// </summary>
internal interface ISwapSlots
{
    /// <summary>A slot for a page about to enter the swap cache, marked SWAP_HAS_CACHE; -1 when swap is full.</summary>
    int AllocSwap(SwapArea area);

    /// <summary>A slot no page table and no swap-cache page uses any more (its map entry left at SWAP_HAS_CACHE): back to the pool.</summary>
    void FreeSwapSlot(SwapArea area, int slot);
}
