using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// Taking workload pages away: munmap / truncate / kmem_cache_free of one page, and exit_mmap of a whole process
/// (zap_pte_range, free_swap_and_cache), as v3.16 mm/memory.c and mm/swapfile.c do it at the level of page state.
/// The data of what is taken away stops existing.
/// </summary>
internal sealed partial class Munmap(PageTable pages, Node node, Lru lru, ProcessTable processes, PageContents contents,
    SwapCache swapCache, ReclaimableSlab reclaimableSlab, PageLock pageLock, Rmap rmap, FaultGfp faultGfp)
{
    /// <summary>
    /// exit_mmap of a process (the OOM killer's victim): this CPU's LRU batches drained first (lru_add_drain, both
    /// kernels: a page of the process still parked there is then freed with the rest), every page it maps unmapped and its
    /// reference dropped, every swap entry freed (free_swap_and_cache), then its page tables (free_pgtables); its data
    /// stops existing.
    /// </summary>
    [Preemptible]
    public void ExitMmap(Process process)
    {
        process.SyncMmRss(); // do_exit, before exit_mm
        lru.LruAddDrain();
        for (int i = 0; i < process.PteCount; i++) ZapPte(process, i);
        var tables = new List<(int Level, int Pfn)>();
        process.FreePgtables(tables);
        foreach (var (level, pfn) in tables) FreePgtable(level, pfn);
        process.Exited = true;
    }

    /// <summary>
    /// munmap of <paramref name="process"/>'s virtual page <paramref name="index"/>: its PTE zapped (<see cref="ZapPte"/>),
    /// then the VMA gives the page up (<see cref="Process.Unmap"/>: total_vm, and the page tables of a range left
    /// without VMA, freed here). A PTE that maps nothing is an address munmap has taken already (a workload frees only what a
    /// fault mapped), or one a fault is still mapping (munmap would wait for it on mmap_sem; here the page is left to
    /// it, as before): nothing to do. True if a page was unmapped.
    /// </summary>
    [Preemptible]
    private bool MunmapPage(Process process, int index)
    {
        if (process.Pte(index) == Process.None) return false;
        process.SyncMmRss(); // the process's own munmap: add_mm_rss_vec folds its task's counts in first
        bool unmapped = ZapPte(process, index);
        var (pte, pmd, pud) = process.Unmap(index);
        if (pte != ProcessPageTables.NoTable) FreePgtable(0, pte);
        if (pmd != ProcessPageTables.NoTable) FreePgtable(1, pmd);
        if (pud != ProcessPageTables.NoTable) FreePgtable(2, pud);
        return unmapped;
    }

    /// <summary>
    /// pte_free / pmd_free / pud_free of a table page of <paramref name="level"/>: its destructor's NR_PAGETABLE (at
    /// the version's levels), then its last reference (the mmu_gather's batch is freed at the end of the munmap: at
    /// once, at this level).
    /// </summary>
    [Preemptible]
    private void FreePgtable(int level, int pfn)
    {
        if (faultGfp.CountsInNrPagetable(level)) node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrPageTablePages, -1);
        lru.PutPage(pfn);
    }

    /// <summary>
    /// zap_pte_range of <paramref name="process"/>'s PTE <paramref name="index"/>: a present page is unmapped
    /// (<see cref="ZapAnonPte"/>); a migration entry (the page is being migrated: its PTE here still names the old page,
    /// unmapped, with the entry counted by <see cref="Rmap"/>) just goes, so migration maps the new page nowhere; a swap
    /// entry is freed. True if a page was unmapped.
    /// </summary>
    [Preemptible]
    private bool ZapPte(Process process, int index)
    {
        int pte = process.Pte(index);
        process.SetPte(index, Process.None);
        if (pte >= 0)
        {
            if (!pages.PageMapped(pte) && rmap.ZapMigrationEntry(pte))
            {
                process.AddAnonRss(-1);
                return false;
            }
            ZapAnonPte(process, pte);
            return true;
        }
        if (Process.IsSwapEntry(pte))
        {
            process.AddSwapEnts(-1);
            FreeSwapAndCache(Process.SwapSlot(pte));
        }
        return false;
    }

    /// <summary>
    /// munmap / truncate / kmem_cache_free of a page the workload chose earlier, given as it was then
    /// (<paramref name="pfn"/>, its <paramref name="mapping"/> and <paramref name="index"/>): another CPU may have changed
    /// it since (freed, reclaimed, migrated it). An anonymous page is found again through its PTE, as zap_pte_range finds
    /// it: the page mapped there now is unmapped, or the swap or migration entry there cleared (<see cref="ZapPte"/>). A
    /// page-cache page must still be that file's page at that index (v3.16 truncate_inode_pages_range: lock_page,
    /// wait_on_page_writeback, then truncate_inode_page, which checks page-&gt;mapping),
    /// a slab page (no mapping) still slab; else it is not the workload's to free any more. The check and the first
    /// change that takes the page from the workload (the PTE, the page cache, PG_slab) have no preemption point between
    /// them. Each then drops the reference it held with an LRU-aware put_page: the page leaves its LRU list only with its
    /// last reference, so a page another path holds isolated (compaction, reclaim) is theirs to put back or free. True
    /// if a page was taken.
    /// </summary>
    [Preemptible]
    public bool FreeChosen(int pfn, int mapping, int index)
    {
        if ((mapping & MappingTable.PageMappingAnon) != 0)
            return processes.OwnerOf(mapping) is { } owner && MunmapPage(owner, index);
        if (mapping != 0 && pages.PageLocked(pfn)) pageLock.WaitOnPageLocked(pfn, $"truncate: lock_page(pfn {pfn})"); // a page still being read in
        if (pages.Mapping[pfn] != mapping || !Freeable(pfn)) return false;
        var zone = node.ZoneOf(pfn);
        if (mapping == 0)
        {
            if (pages.Kind[pfn] != (byte)PageKind.Slab) return false;
            // kmem_cache_free of the slab's last object: the slab page goes back (__ClearPageSlab, free_pages).
            pages.Clear(pfn, PG.Slab);
            zone.Stat.Add((int)(reclaimableSlab.Contains(pfn) ? ZoneStat.NrSlabReclaimable : ZoneStat.NrSlabUnreclaimable), -1);
            reclaimableSlab.Remove(pfn);
        }
        else
        {
            if (pages.Kind[pfn] != (byte)PageKind.File || pages.Index[pfn] != index) return false;
            // truncate_inode_page: delete_from_page_cache (mapping cleared, NR_FILE_PAGES), cancel_dirty_page.
            pages.Mapping[pfn] = 0;
            zone.Stat.Add((int)ZoneStat.NrFilePages, -1);
            if (pages.Test(pfn, PG.Dirty)) zone.Stat.Add((int)ZoneStat.NrDirty, -1);
            pages.Clear(pfn, PG.Dirty);
        }
        contents.Retire(pfn);
        lru.PutPage(pfn);
        return true;
    }

    /// <summary>
    /// A page the workload can free now, not under writeback (truncate would wait for the write): a mapped anonymous
    /// page, a page-cache page still in its file (not being truncated already), a slab page still in use.
    /// </summary>
    // Inlined always: the workload's scan for what it may free asks it of every page of the guest.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Freeable(int pfn) => !pages.Test(pfn, PG.Writeback) && (PageKind)pages.Kind[pfn] switch
    {
        PageKind.Anon => pages.PageMapped(pfn),
        PageKind.File => pages.Count[pfn] > 0 && pages.Mapping[pfn] != 0,
        PageKind.Slab => pages.Count[pfn] > 0 && pages.Test(pfn, PG.Slab),
        _ => false,
    };

    /// <summary>
    /// zap_pte_range of one mapped anonymous page (munmap, exit_mmap): page_remove_rmap, free_swap_cache, then the PTE's
    /// reference (LRU-aware put_page).
    /// </summary>
    [Preemptible]
    private void ZapAnonPte(Process process, int pfn)
    {
        pages.MapCount[pfn] = -1;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrAnonPages, -1);
        process.AddAnonRss(-1);
        contents.Retire(pfn);
        // free_swap_cache: trylock_page, then try_to_free_swap (not under writeback); a page reclaim has locked stays.
        if (pages.Test(pfn, PG.SwapCache) && !pages.Test(pfn, PG.Writeback | PG.Locked)) DropSwapCache(pfn);
        lru.PutPage(pfn);
    }

    /// <summary>free_swap_and_cache: the PTE's reference to a slot goes; a swap-cache page nobody maps goes with it.</summary>
    [Preemptible]
    private void FreeSwapAndCache(int slot)
    {
        var area = swapCache.Area;
        if (area.Swapcount(slot) == 1)
        {
            contents.RetireSwapped(area.Content[slot]);
            area.SetContent(slot, 0);
        }
        area.SwapFree(slot);
        int cached = area.CachePage[slot];
        if (area.Swapcount(slot) == 0 && cached >= 0 && !pages.PageMapped(cached) && !pages.Test(cached, PG.Writeback | PG.Locked))
        {
            contents.Retire(cached);
            DropSwapCache(cached);
        }
    }

    /// <summary>delete_from_swap_cache: the page leaves the swap cache and the cache's reference is dropped.</summary>
    [Preemptible]
    private void DropSwapCache(int pfn)
    {
        swapCache.Delete(pfn, keepDataOnSlot: false);
        lru.PutPage(pfn);
    }

}
