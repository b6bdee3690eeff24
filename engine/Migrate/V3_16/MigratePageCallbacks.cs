using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Migrate.V3_16;

/// <summary>
/// The generic <c>a_ops-&gt;migratepage</c> implementations of v3.16 mm/migrate.c: <c>migrate_page</c> (with
/// <c>migrate_page_move_mapping</c> and <c>migrate_page_copy</c>) and <c>fallback_migrate_page</c>. Both pages
/// are locked by the caller. A swap-cache page moves its slot to the new page (the swap address space's
/// migratepage is migrate_page). No buffer heads, mlock or KSM are modelled. v4.8's migration borrows them but for
/// how a dirty page's state moves (<see cref="V4_8.MigratePageCallbacks"/>).
/// </summary>
internal partial class MigratePageCallbacks(PageTable pages, Node node, Rmap rmap, MappingTable mappings, SwapArea swap, Sanitizer sanitizer,
    Host.RamBlock ram)
{
    /// <summary>Flags migrate_page_copy carries over as they are.</summary>
    protected virtual PG CopiedFlags => PG.Error | PG.Referenced | PG.Uptodate | PG.MappedToDisk;

    /// <summary>
    /// move_to_new_page's call for an LRU page (v3.16, unchanged in v4.8): migrate_page without a mapping (anonymous),
    /// the mapping's <c>a_ops-&gt;migratepage</c>, or fallback_migrate_page when it has none.
    /// </summary>
    [Preemptible]
    public int MappingMigratepage(int newpage, int page, MigrateMode mode)
    {
        int mapping = Rmap.PageMapping(pages, page);
        return mapping == 0 ? MigratePage(0, newpage, page) : mappings.MigratePage(mapping) switch
        {
            MigratePageOp.Generic => MigratePage(mapping, newpage, page),
            MigratePageOp.Driver => mappings.CallDriverMigratePage(mapping, newpage, page, mode),
            _ => FallbackMigratePage(mapping, newpage, page, mode),
        };
    }

    /// <summary>migrate_page: move the mapping's reference, then copy data and flags.</summary>
    public int MigratePage(int mapping, int newpage, int page)
    {
        if (pages.Test(page, PG.Writeback))
            sanitizer.Report(ReportKind.VmBug, page, "BUG_ON(PageWriteback(page)) in migrate_page");
        int rc = MigratePageMoveMapping(mapping, newpage, page);
        if (rc != MigrateRc.Success) return rc;
        MigratePageCopy(newpage, page);
        return MigrateRc.Success;
    }

    /// <summary>
    /// fallback_migrate_page: a dirty page is written out first (only in MIGRATE_SYNC; else -EBUSY), then
    /// migrate_page.
    /// </summary>
    public int FallbackMigratePage(int mapping, int newpage, int page, MigrateMode mode)
    {
        if (pages.Test(page, PG.Dirty))
        {
            if (mode != MigrateMode.Sync) return MigrateRc.EBusy;
            return Writeout(page);
        }
        return MigratePage(mapping, newpage, page);
    }

    /// <summary>
    /// migrate_page_move_mapping (v3.16; v4.8 and 6.1's folio_migrate_mapping alike): an anonymous page (mapping
    /// NULL) may only be referenced by the isolation; a page-cache page by the cache and the isolation (+1 with
    /// private data). The cache's reference moves to <paramref name="newpage"/>, and NR_FILE_PAGES with it; a
    /// swap-cache page's PG_swapcache and slot (page_private) go to <paramref name="newpage"/>, and the slot in the
    /// swap address space's radix tree is replaced by it (radix_tree_replace_slot), so a later swap-in finds the new
    /// page, not the old one being freed.
    /// </summary>
    private int MigratePageMoveMapping(int mapping, int newpage, int page)
    {
        if (mapping == 0) return pages.Count[page] == 1 ? MigrateRc.Success : MigrateRc.EAgain;
        int expected = 2 + ((pages.Flags[page] & (uint)(PG.Private | PG.Private2)) != 0 ? 1 : 0);
        if (pages.Count[page] != expected) return MigrateRc.EAgain; // page_freeze_refs failed
        pages.Count[newpage]++;
        if (pages.Test(page, PG.SwapCache))
        {
            pages.Set(newpage, PG.SwapCache);
            pages.Private[newpage] = pages.Private[page];
            swap.CachePage[pages.Private[page]] = newpage;
        }
        pages.Count[page] = expected - 1;
        node.ZoneOf(page).Stat.Add((int)ZoneStat.NrFilePages, -1);
        node.ZoneOf(newpage).Stat.Add((int)ZoneStat.NrFilePages, 1);
        return MigrateRc.Success;
    }

    /// <summary>
    /// migrate_page_copy (v3.16): copy_highpage moves the data (the content token moves: the old page is
    /// about to be freed; the copy writes the new page, which the host backs from then on), then the page state: PG_active moves (else PG_unevictable), PG_dirty moves
    /// (<see cref="MoveDirty"/>), the old page loses PG_swapcache and PG_private.
    /// </summary>
    private void MigratePageCopy(int newpage, int page)
    {
        pages.Content[newpage] = pages.Content[page];
        pages.Content[page] = 0;
        ram.Write(newpage);
        pages.Kind[newpage] = pages.Kind[page];
        pages.Flags[newpage] |= pages.Flags[page] & (uint)CopiedFlags;
        if (pages.Test(page, PG.Active))
        {
            pages.Clear(page, PG.Active);
            pages.Set(newpage, PG.Active);
        }
        else if (pages.Test(page, PG.Unevictable))
        {
            pages.Clear(page, PG.Unevictable);
            pages.Set(newpage, PG.Unevictable);
        }
        if (pages.Test(page, PG.Dirty)) MoveDirty(newpage, page);
        pages.Clear(page, PG.SwapCache | PG.Private);
        pages.Private[page] = 0;
    }

    /// <summary>
    /// migrate_page_copy (v3.16) on a dirty page: clear_page_dirty_for_io (a page-cache page leaves NR_FILE_DIRTY of its
    /// zone), then SetPageDirty for a swap-backed newpage, __set_page_dirty_nobuffers for a page-cache one, whose
    /// account_page_dirtied counts it again: NR_FILE_DIRTY and NR_DIRTIED of the new page's zone. So each dirty page-cache
    /// page migrated adds one to nr_dirtied.
    /// </summary>
    protected virtual void MoveDirty(int newpage, int page)
    {
        MoveDirtyFlag(newpage, page);
        if (pages.Test(page, PG.SwapBacked)) return;
        node.ZoneOf(newpage).Stat.Add((int)ZoneStat.NrDirtied, 1);
    }

    /// <summary>
    /// PG_dirty from <paramref name="page"/> to <paramref name="newpage"/>; a page-cache page's NR_FILE_DIRTY follows it
    /// to the new page's zone.
    /// </summary>
    protected void MoveDirtyFlag(int newpage, int page)
    {
        pages.Clear(page, PG.Dirty);
        pages.Set(newpage, PG.Dirty);
        if (pages.Test(page, PG.SwapBacked)) return;
        node.ZoneOf(page).Stat.Add((int)ZoneStat.NrDirty, -1);
        node.ZoneOf(newpage).Stat.Add((int)ZoneStat.NrDirty, 1);
    }

    /// <summary>
    /// writeout: clear_page_dirty_for_io, restore the PTEs, start ->writepage; the page is clean on a later
    /// pass, so this pass returns -EAGAIN.
    /// </summary>
    private int Writeout(int page)
    {
        pages.Clear(page, PG.Dirty);
        rmap.RemoveMigrationPtes(page, page);
        return MigrateRc.EAgain;
    }
}
