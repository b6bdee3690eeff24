using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The zone free lists of mm/page_alloc.c as the other parts use them: boot, <c>get_page_from_freelist</c>,
/// freeing a block whose last reference went, <c>put_page</c>, and the watermark test. One implementation
/// per kernel version (<see cref="V3_16.BuddyAllocator"/>).
/// </summary>
internal partial interface IBuddyAllocator
{
    /// <summary>free_all_bootmem and init_per_zone_wmark_min: all memory into the free lists, then watermarks and reserves.</summary>
    void Boot();

    /// <summary>get_page_from_freelist: the first PFN of a 2^order block with <c>_count</c> 1, or -1.</summary>
    [Preemptible]
    int GetPageFromFreelist(int order, Gfp gfp, int allocFlags);

    /// <summary>Free a 2^order block whose last reference was dropped (__free_pages_ok / free_hot_cold_page).</summary>
    [Preemptible]
    void FreePages(int pfn, int order);

    /// <summary>
    /// One page of free_hot_cold_page_list(list, cold) as reclaim frees its batches: v3.16 adds it at the tail of the
    /// per-cpu list (a cold page, handed out last); 6.1 has no cold frees (free_unref_page_list).
    /// </summary>
    [Preemptible]
    void FreeColdPage(int pfn);

    /// <summary>put_page / __free_pages: drop a reference; free the block when it was the last.</summary>
    [Preemptible]
    void PutPage(int pfn, int order = 0);

    /// <summary>put_page_testzero: drop a reference; true if it was the last (the caller frees the page).</summary>
    bool PutPageTestzero(int pfn);

    /// <summary>zone_watermark_ok: could 2^order pages be taken from the zone and leave it above <paramref name="mark"/>?</summary>
    bool ZoneWatermarkOk(Zone zone, int order, long mark, int classzone, int allocFlags);

    /// <summary>Order-0 pages the zonelist can still hand out at watermark <paramref name="wmark"/> (for validating requests up front).</summary>
    long AllocatablePages(int wmark);
}
