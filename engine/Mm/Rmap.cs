using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The reverse-map operations migration needs (v3.16 mm/rmap.c, mm/migrate.c), to the level of page state
/// and counts: a page's mappings are its <c>_mapcount + 1</c> PTEs, each holding one reference. Migration
/// replaces them by migration entries (remembered per old PFN, as the entries in the page tables point at
/// it) and later re-establishes them on the new page, or on the old one if migration failed.
/// </summary>
internal sealed class Rmap(PageTable pages, Node node) : ISnapshotState
{
    private readonly int[] _migrationEntries = new int[pages.NrPages];

    public object Save() => _migrationEntries.Clone();

    public void Restore(object saved) => ((int[])saved).CopyTo(_migrationEntries, 0);

    /// <summary>page_mapping(): NULL for anonymous pages (no swap cache modelled), else <c>page-&gt;mapping</c>.</summary>
    public static int PageMapping(PageTable pages, int pfn) => pages.PageAnon(pfn) ? 0 : pages.Mapping[pfn];

    /// <summary>
    /// try_to_unmap(page, TTU_MIGRATION): every PTE becomes a migration entry; each unmap drops the PTE's
    /// reference; page_remove_rmap lowers NR_ANON_PAGES when an anon page's last mapping goes.
    /// </summary>
    public void TryToUnmap(int pfn)
    {
        int mappers = pages.MapCount[pfn] + 1;
        if (mappers <= 0) return;
        _migrationEntries[pfn] += mappers;
        pages.Count[pfn] -= mappers;
        pages.MapCount[pfn] = -1;
        if (pages.PageAnon(pfn)) node.ZoneOf(pfn).Stat[(int)ZoneStat.NrAnonPages]--;
    }

    /// <summary>
    /// remove_migration_ptes(old, new): the migration entries pointing at <paramref name="old"/> become PTEs of
    /// <paramref name="newpage"/> (get_page + page_add_anon_rmap / page_add_file_rmap each). Idempotent: the
    /// entries are consumed.
    /// </summary>
    public void RemoveMigrationPtes(int old, int newpage)
    {
        int entries = _migrationEntries[old];
        if (entries == 0) return;
        _migrationEntries[old] = 0;
        bool firstMapping = pages.MapCount[newpage] < 0;
        pages.Count[newpage] += entries;
        pages.MapCount[newpage] += entries;
        if (firstMapping && pages.PageAnon(newpage)) node.ZoneOf(newpage).Stat[(int)ZoneStat.NrAnonPages]++;
    }
}
