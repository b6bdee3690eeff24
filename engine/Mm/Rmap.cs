using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The reverse-map operations of v3.16 mm/rmap.c and mm/migrate.c that migration and reclaim need, to the level
/// of page state and counts: a page's mappings are its <c>_mapcount + 1</c> PTEs, each holding one reference; an
/// anonymous page's PTE is found in its process's page table at <c>page-&gt;index</c> (anon_vma → process).
/// Each mapped page has one pte young (accessed) bit, set by an access and tested-and-cleared by
/// <c>page_referenced</c>. Migration replaces the PTEs by migration entries (remembered per old PFN) and later
/// re-establishes them on the new page, or on the old one if migration failed; reclaim's <c>try_to_unmap</c>
/// replaces an anonymous page's PTE by its swap entry.
/// </summary>
internal sealed partial class Rmap(PageTable pages, RmapPages rmapPages, Node node, ProcessTable processes, SwapArea swap, PageContents contents,
    Scheduler scheduler) : ISnapshotState
{
    /// <summary>Old pages under migration whose every migration entry a munmap took: their data is nobody's.</summary>
    private readonly HashSet<int> _unmappedDuringMigration = [];

    public object Save() => _unmappedDuringMigration.ToArray();

    public void Restore(object saved)
    {
        var unmapped = (int[])saved;
        _unmappedDuringMigration.Clear();
        _unmappedDuringMigration.UnionWith(unmapped);
    }

    /// <summary>page_mapping(): the swap address space for a swap-cache page, NULL for other anonymous pages, else <c>page-&gt;mapping</c>.</summary>
    public static int PageMapping(PageTable pages, int pfn) =>
        pages.Test(pfn, PG.SwapCache) ? MappingTable.SwapperSpace : pages.PageAnon(pfn) ? 0 : pages.Mapping[pfn];

    /// <summary>The CPU set the accessed bit of the page's PTE (a load or store through the mapping).</summary>
    public void MarkYoung(int pfn) => rmapPages.SetYoung(pfn, true);

    /// <summary>
    /// page_referenced (v3.16): how many of the page's mappings had their young bit set, clearing it on the way;
    /// 0 for an unmapped page.
    /// </summary>
    public int PageReferenced(int pfn)
    {
        if (!pages.PageMapped(pfn) || !rmapPages.Young(pfn)) return 0;
        rmapPages.SetYoung(pfn, false);
        return pages.MapCount[pfn] + 1;
    }

    /// <summary>
    /// try_to_unmap(page, TTU_MIGRATION): every PTE becomes a migration entry; each unmap drops the PTE's
    /// reference; page_remove_rmap lowers NR_ANON_PAGES when an anon page's last mapping goes. The PTE's young bit is
    /// lost (v3.16, v4.8), or with <paramref name="youngEntries"/> kept in the entry for <see cref="RemoveMigrationPtes"/>
    /// (6.1 try_to_migrate_one: <c>make_migration_entry_young</c>, where <c>migration_entry_supports_ad()</c>).
    /// </summary>
    [Preemptible]
    public void TryToUnmap(int pfn, bool youngEntries = false)
    {
        WaitForTheFault(pfn);
        int mappers = pages.MapCount[pfn] + 1;
        if (mappers <= 0) return;
        rmapPages.SetMigrationEntries(pfn, rmapPages.MigrationEntries(pfn) + mappers);
        pages.Count[pfn] -= mappers;
        pages.MapCount[pfn] = -1;
        if (!youngEntries) rmapPages.SetYoung(pfn, false);
        if (pages.PageAnon(pfn)) node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrAnonPages, -1);
    }

    /// <summary>
    /// try_to_unmap_one's page_check_address takes the PTE lock, which a fault holds from page_add_new_anon_rmap through
    /// lru_cache_add to set_pte_at (v3.16 do_anonymous_page: pte_offset_map_lock, then page_add_new_anon_rmap, which
    /// itself sets PG_active and calls lru_cache_add until v3.17 moved that to lru_cache_add_active_or_unevictable,
    /// then set_pte_at): a page mapped (mapcount set, already on the LRU, so compaction or reclaim could take it) whose
    /// PTE does not name it yet is waited for until the fault has written it (or the page is no longer mapped).
    /// </summary>
    [Preemptible]
    private void WaitForTheFault(int pfn)
    {
        if (!pages.PageMapped(pfn) || !pages.PageAnon(pfn) || processes.OwnerOf(pages.Mapping[pfn]) is not { } owner) return;
        int index = pages.Index[pfn];
        if (index < owner.PteCount && owner.Pte(index) == Process.None && !owner.Exited) WaitForPte(owner, index, pfn);
    }

    /// <summary>The wait of <see cref="WaitForTheFault"/> (its own method: the closure only where a fault is under way).</summary>
    [Preemptible]
    private void WaitForPte(Process owner, int index, int pfn) =>
        scheduler.WaitUntil(() => owner.Pte(index) != Process.None || !pages.PageMapped(pfn) || owner.Exited, owner, "page_check_address: pte lock");

    /// <summary>zap_pte_range of a migration entry for <paramref name="pfn"/>: one fewer PTE for remove_migration_ptes to restore; false if there is none.</summary>
    public bool ZapMigrationEntry(int pfn)
    {
        int entries = rmapPages.MigrationEntries(pfn);
        if (entries == 0) return false;
        rmapPages.SetMigrationEntries(pfn, entries - 1);
        if (entries == 1) _unmappedDuringMigration.Add(pfn);
        return true;
    }

    /// <summary>
    /// remove_migration_ptes(old, new): the migration entries pointing at <paramref name="old"/> become PTEs of
    /// <paramref name="newpage"/> (get_page + page_add_anon_rmap / page_add_file_rmap each; the new PTE is old, not
    /// young — or, with <paramref name="youngEntries"/> (6.1), young if the entry kept the bit), and the process's page
    /// table points at the new page. Idempotent: the entries are consumed.
    /// </summary>
    public void RemoveMigrationPtes(int old, int newpage, bool youngEntries = false)
    {
        // Every entry went to a munmap: no PTE to restore, and the data (moved to newpage or not) stops existing.
        if (_unmappedDuringMigration.Remove(old)) contents.Retire(newpage);
        int entries = rmapPages.MigrationEntries(old);
        if (entries == 0) return;
        rmapPages.SetMigrationEntries(old, 0);
        if (old != newpage)
        {
            // The new PTE: old (pte_mkold), or with youngEntries as young as the entry; not what newpage's last life left.
            rmapPages.SetYoung(newpage, youngEntries && rmapPages.Young(old));
            rmapPages.SetYoung(old, false);
        }
        bool firstMapping = pages.MapCount[newpage] < 0;
        pages.Count[newpage] += entries;
        pages.MapCount[newpage] += entries;
        if (!pages.PageAnon(newpage)) return;
        if (firstMapping) node.ZoneOf(newpage).Stat.Add((int)ZoneStat.NrAnonPages, 1);
        if (processes.OwnerOf(pages.Mapping[newpage]) is { } owner && pages.Index[newpage] < owner.PteCount)
            owner.SetPte(pages.Index[newpage], newpage);
    }

    /// <summary>
    /// try_to_unmap of an anonymous page in the swap cache (try_to_unmap_one), for reclaim (TTU_UNMAP) and for v3.16's
    /// migration (TTU_MIGRATION, before 4.5 gave swap-cache pages migration entries too): without
    /// <paramref name="ignoreAccess"/> (v3.16) a young PTE means the page was used again → SWAP_FAIL (the bit is
    /// cleared); else (TTU_IGNORE_ACCESS, always since 5.11) the PTE, young or not, becomes the swap entry
    /// (swap_duplicate, MM_ANONPAGES −1, MM_SWAPENTS +1), page_remove_rmap, and the mapping's reference is dropped.
    /// True = SWAP_SUCCESS (no longer mapped).
    /// </summary>
    [Preemptible]
    public bool TryToUnmapSwapCache(int pfn, bool ignoreAccess)
    {
        WaitForTheFault(pfn);
        if (!pages.PageMapped(pfn)) return true;
        if (rmapPages.Young(pfn))
        {
            rmapPages.SetYoung(pfn, false); // tested and cleared (v3.16), or gone with the PTE
            if (!ignoreAccess) return false;
        }
        var owner = processes.OwnerOf(pages.Mapping[pfn]);
        int slot = pages.Private[pfn];
        int mappers = pages.MapCount[pfn] + 1;
        for (int i = 0; i < mappers; i++) swap.SwapDuplicate(slot);
        if (owner is not null)
        {
            owner.SetPte(pages.Index[pfn], Process.SwapEntry(slot));
            owner.AddAnonRss(-1);
            owner.AddSwapEnts(1);
        }
        pages.MapCount[pfn] = -1;
        pages.Count[pfn] -= mappers;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrAnonPages, -1);
        return true;
    }
}
