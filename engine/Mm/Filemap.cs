using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// mm/filemap.c's read of a page missing from the page cache, as a <c>read(2)</c> of one page of a file opened with
/// POSIX_FADV_RANDOM (FMODE_RANDOM) makes it: <c>page_cache_sync_readahead</c> reads only that page (v3.16
/// <c>force_page_cache_readahead</c> → <c>__do_page_cache_readahead</c>; 6.1 <c>force_page_cache_ra</c> →
/// <c>page_cache_ra_unbounded</c>) with the readahead mask, and if that allocation fails the read allocates with its
/// own, which may reclaim hard and end in the OOM killer (v3.16 <c>do_generic_file_read</c>'s <c>no_cached_page</c>,
/// 6.1 <c>filemap_create_folio</c>; <see cref="FaultGfp.FileReadahead"/>, <see cref="FaultGfp.FileRead"/>). The new page
/// enters the page cache locked in the slot's place (<c>add_to_page_cache_lru</c>, <c>filemap_add_folio</c>): a shadow
/// entry there goes through the version's <c>workingset_refault</c>, which may activate the page; it goes on the LRU
/// and is read (one bio: pgpgin). The reader sleeps until the read completes, <see cref="SimulationOptions.IoLatencyMs"/>
/// later (v3.16 <c>lock_page_killable</c> on the page <c>find_get_page</c> gave it; 6.1 <c>folio_put_wait_locked</c>,
/// which drops the reader's reference and waits on the lock), while time runs on for the rest of the guest. The page is
/// up to date and unlocked at once here (no other path waits on it), so a reference held for the wait stands in for the
/// page lock the read holds in the kernel: reclaim and migration leave the page alone until the read would have
/// completed and the copy to the reader has marked it accessed. No page fault is counted: the reader copies, it does
/// not map.
/// </summary>
internal sealed partial class Filemap(PageTable pages, Node node, IPageAllocator allocator, Lru lru, PageRefs refs, PageCache pageCache,
    PageContents contents, VmStat vmstat, FaultGfp faultGfp, Time.SimClock clock, IWorkingset? workingset = null)
{

    /// <summary>Read the page at <paramref name="index"/> of <paramref name="mapping"/> into the page cache; false if no page could be had (-ENOMEM).</summary>
    [Preemptible]
    public bool ReadMissingPage(int mapping, int index)
    {
        int pfn = allocator.AllocPages(0, faultGfp.FileReadahead);
        if (pfn < 0) pfn = allocator.AllocPages(0, faultGfp.FileRead);
        if (pfn < 0) return false;
        contents.Write(pfn); // the read's DMA
        AddToPageCacheLru(pfn, mapping, index);
        refs.GetPage(pfn);
        clock.WaitForRead("read: wait for the page's read (lock_page_killable, folio_put_wait_locked)",
            workingset: pages.Test(pfn, PG.Workingset));
        lru.MarkPageAccessed(pfn);
        lru.PutPage(pfn);
        return true;
    }

    /// <summary>
    /// add_to_page_cache_lru (v3.16) / filemap_add_folio (6.1) of the new page <paramref name="pfn"/>, locked, at
    /// <paramref name="index"/> of <paramref name="mapping"/> (NR_FILE_PAGES; a shadow entry there goes through
    /// workingset_refault before lru_cache_add), then its read: one bio (pgpgin), the page up to date and unlocked at once.
    /// </summary>
    [Preemptible]
    public void AddToPageCacheLru(int pfn, int mapping, int index)
    {
        pages.Mapping[pfn] = mapping;
        pages.Index[pfn] = index;
        pages.Flags[pfn] = (uint)(PG.Uptodate | PG.Locked);
        pages.Kind[pfn] = (byte)PageKind.File;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrFilePages, 1);
        long shadow = pageCache.TakeShadow(mapping, index);
        if (shadow != 0) workingset!.Refault(pfn, shadow); // shadows exist only where reclaim, and with it the workingset, is modelled
        lru.LruCacheAdd(pfn);
        vmstat.CountPageBio(VmEvent.Pgpgin);
        pages.Clear(pfn, PG.Locked);
    }
}
