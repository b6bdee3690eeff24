using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Swap.V6_1;

/// <summary>
/// swap_cluster_readahead of 6.1 (mm/swap_state.c, 6.1.78; swapin_readahead's choice for swap on a rotational disk,
/// and a virtio-blk disk is one to the guest): __read_swap_cache_async
/// allocates nothing for a slot no page table refers to (the swap slot cache is enabled on a running 6.1), only a page
/// read just now is marked PG_readahead and counted in swap_ra, and a fault that finds one counts swap_ra_hit. (6.1
/// sleeps a jiffy before it looks again when another CPU got to the slot first; here it looks again at once.)
/// </summary>
internal sealed class SwapClusterReadahead(PageTable pages, IPageAllocator allocator, IBuddyAllocator buddy, Lru lru, SwapCache swapCache,
    VmStat vmstat) : SwapReadahead(pages, allocator, buddy, lru, swapCache, vmstat)
{
    protected override bool SkipsUnusedSlot(int slot) => Area.Swapcount(slot) == 0;

    protected override void MarkReadahead(int page, bool allocated)
    {
        if (!allocated) return;
        Pages.Set(page, PG.Readahead);
        Vmstat.Count(VmEvent.SwapRa);
    }

    protected override void CountReadaheadHit() => Vmstat.Count(VmEvent.SwapRaHit);
}
