using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Swap.V6_1;

/// <summary>
/// swap_cluster_readahead of 6.1 (mm/swap_state.c, read in the 6.1.78 Natsume324 tree). swapin_readahead takes it
/// while any swap device is rotational (swap_use_vma_readahead: nr_rotate_swap, which swapon raises for a device without
/// QUEUE_FLAG_NONROT; virtio_blk's probe does not set it — read in a 5.x virtio_blk.c —, so a guest's virtio-blk swap
/// counts). __read_swap_cache_async allocates nothing for a slot no page table refers to (swap_slot_cache_enabled: true
/// on a running 6.1), only a page read just now is marked PG_readahead and counted in swap_ra, and a fault that finds
/// one (swap_cache_get_folio, 6.1's lookup_swap_cache) counts swap_ra_hit. (6.1 sleeps a jiffy before it looks again
/// when another CPU got to the slot first; here it looks again at once.) A page read in place of a shadow entry goes
/// through workingset_refault before it reaches the LRU (<see cref="Reclaim.V6_1.Workingset"/>).
/// </summary>
internal sealed class SwapClusterReadahead(PageTable pages, IPageAllocator allocator, IBuddyAllocator buddy, Lru lru, SwapCache swapCache,
    VmStat vmstat, FaultGfp faultGfp, Reclaim.V6_1.Workingset? workingset = null)
    : SwapReadahead(pages, allocator, buddy, lru, swapCache, vmstat, faultGfp)
{
    /// <summary>__read_swap_cache_async's workingset_refault (shadow entries exist only where reclaim, and with it the workingset, is modelled).</summary>
    protected override void Refault(int page, long shadow) => workingset!.Refault(page, shadow);

    protected override bool SkipsUnusedSlot(int slot) => Area.Swapcount(slot) == 0;

    protected override void MarkReadahead(int page, bool allocated)
    {
        if (!allocated) return;
        Pages.Set(page, PG.Readahead);
        Vmstat.Count(VmEvent.SwapRa);
    }

    protected override void CountReadaheadHit() => Vmstat.Count(VmEvent.SwapRaHit);
}
