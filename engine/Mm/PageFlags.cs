namespace BalloonScript.Engine.Mm;

/// <summary>
/// <c>enum pageflags</c> of v3.16 (include/linux/page-flags.h), in kernel order; each value is the bit.
/// </summary>
[Flags]
internal enum PG : uint
{
    None = 0,
    Locked = 1u << 0,
    Error = 1u << 1,
    Referenced = 1u << 2,
    Uptodate = 1u << 3,
    Dirty = 1u << 4,
    Lru = 1u << 5,
    Active = 1u << 6,
    Slab = 1u << 7,
    OwnerPriv1 = 1u << 8,
    Arch1 = 1u << 9,
    Reserved = 1u << 10,
    Private = 1u << 11,
    Private2 = 1u << 12,
    Writeback = 1u << 13,
    Head = 1u << 14,
    Tail = 1u << 15,
    SwapCache = 1u << 16,
    MappedToDisk = 1u << 17,
    Reclaim = 1u << 18,
    SwapBacked = 1u << 19,
    Unevictable = 1u << 20,
    Mlocked = 1u << 21,

    /// <summary>
    /// PG_workingset (4.20; set by the v6.1 design only): the page was active before reclaim deactivated it, or was
    /// restored to the workingset on a refault. Its shadow entry carries it (workingset_eviction, 6.1 mm/workingset.c).
    /// </summary>
    Workingset = 1u << 22,

    /// <summary>
    /// PG_isolated (v4.8 page-flags.h, "non-lru isolated movable page"): an alias of PG_reclaim, which no non-LRU page
    /// uses. Set and cleared by the migration core only; in PAGE_FLAGS_CHECK_AT_PREP, not in _AT_FREE, so freeing a
    /// page clears it silently.
    /// </summary>
    Isolated = Reclaim,

    /// <summary>
    /// PG_readahead (v3.16 page-flags.h, <c>PAGEFLAG(Readahead, reclaim)</c>): an alias of PG_reclaim, which a page read
    /// ahead is not yet under (it is clean and not under writeback). Swap readahead sets it on the pages it reads around
    /// the faulting slot; the fault that finds one in the swap cache clears it and counts a readahead hit.
    /// </summary>
    Readahead = Reclaim,

    /// <summary>
    /// PG_reported (6.1 page-flags.h: an alias of PG_uptodate, "only valid for buddy pages"; set by the v6.1 design only):
    /// free page reporting told the host about this free block (page_reporting_drain). Cleared as the block leaves its
    /// free list (del_page_from_free_list).
    /// </summary>
    Reported = Uptodate,

    /// <summary>PAGE_FLAGS_CHECK_AT_FREE (v3.16 page-flags.h): a page freed with any of these is a bad page.</summary>
    CheckAtFree = Lru | Locked | Private | Private2 | Writeback | Reserved | Slab | SwapCache | Active
                  | Unevictable | Mlocked,

    /// <summary>PAGE_FLAGS_CHECK_AT_PREP: every flag below NR_PAGEFLAGS (6.1's PG_workingset among them); a new page must have none.</summary>
    CheckAtPrep = (1u << 23) - 1,
}
