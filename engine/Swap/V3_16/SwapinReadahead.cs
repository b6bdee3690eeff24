using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Swap.V3_16;

/// <summary>
/// swapin_readahead of v3.16 (mm/swap_state.c, read in TROVON v3.16): the whole window is asked for, so a page is
/// allocated, and freed again, for each slot in it that no page table refers to (swapcache_prepare
/// fails only then); every page the window returns besides the faulting one is marked PG_readahead, those already in
/// the swap cache included. No readahead event is counted.
/// </summary>
internal sealed class SwapinReadahead(PageTable pages, IPageAllocator allocator, IBuddyAllocator buddy, Lru lru, SwapCache swapCache,
    VmStat vmstat, FaultGfp faultGfp) : SwapReadahead(pages, allocator, buddy, lru, swapCache, vmstat, faultGfp)
{
    protected override bool SkipsUnusedSlot(int slot) => false;

    protected override void MarkReadahead(int page, bool allocated) => Pages.Set(page, PG.Readahead);

    protected override void CountReadaheadHit() { }

    /// <summary>v3.16 keeps no shadow entry for an anonymous page (that came in 5.9): never called.</summary>
    protected override void Refault(int page, long shadow) => throw new InvalidOperationException("v3.16 keeps no anonymous shadow entries");
}
