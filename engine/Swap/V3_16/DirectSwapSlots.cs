namespace BalloonScript.Engine.Swap.V3_16;

/// <summary>
/// v3.16 mm/swapfile.c: get_swap_page takes one slot from the area (nr_swap_pages one less), and swap_entry_free gives
/// a slot back the moment its last user lets go of it. (The design's reclaim version chooses it, as swap goes with reclaim.)
/// </summary>
internal sealed class DirectSwapSlots : ISwapSlots
{
    public int AllocSwap(SwapArea area) => area.GetOneSwapPage();

    public void FreeSwapSlot(SwapArea area, int slot) => area.EntryFree(slot);
}
