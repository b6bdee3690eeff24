using System.Runtime.CompilerServices;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Migrate.V4_8;

/// <summary>
/// Page migration, v4.8 mm/migrate.c (WindRiver-Labs/kernel-4.8.x, 4.8.18): <c>migrate_pages</c>,
/// <c>unmap_and_move</c>, <c>__unmap_and_move</c>, <c>move_to_new_page</c>, <c>putback_movable_pages</c>, with the
/// non-LRU movable page paths of bda807d44454. There is no balloon branch: a balloon page is a non-LRU movable page
/// (PAGE_MAPPING_MOVABLE), moved through its mapping's <c>a_ops-&gt;migratepage</c> (balloon_aops), given back through
/// <c>a_ops-&gt;putback_page</c>, and counted in no NR_ISOLATED_* counter. The generic <c>migrate_page</c> /
/// <c>fallback_migrate_page</c> of LRU pages are v3.16's but for the dirty flag (<see cref="MigratePageCallbacks"/>);
/// what v4.8 moved into <c>migrate_page_move_mapping</c> (newpage's index, mapping and PG_swapbacked set only once
/// the move is certain) is done here after it succeeds.
/// </summary>
[KernelPart("migration", PartVersion.V4_8)]
internal sealed partial class Migration(PageTable pages, PageLists lists, Lru lru, Rmap rmap, PageLock pageLock, Scheduler scheduler,
    SimClock clock, VmStat vmstat, Sanitizer sanitizer, MovablePage movable, MovablePageIsolation isolation,
    V3_16.MigratePageCallbacks callbacks, MigrationPageLock migrationLock) : IMigration
{
    /// <summary>
    /// migrate_pages (v4.8): the passes of v3.16, counted as v4.8 does: -ENOMEM counts the page it stopped at as a
    /// failure and returns -ENOMEM; otherwise the pages still retrying after the last pass are failures too
    /// (<c>nr_failed += retry</c>), in the return value and in pgmigrate_fail.
    /// </summary>
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)] // as v3.16's: kept out of compact_zone's on-stack-replacement build
    public int MigratePages(int from, [Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("migrate_pages");
        var r = MigrateLists.MigratePagesPasses(scheduler, lists, clock, from, (page, force) => UnmapAndMove(getNewPage, putNewPage, page, force, mode));
        int failed = r.NoMemory ? r.Failed + 1 : r.Failed + r.Retry;
        if (r.Succeeded > 0) vmstat.Count(VmEvent.PgmigrateSuccess, r.Succeeded);
        if (failed > 0) vmstat.Count(VmEvent.PgmigrateFail, failed);
        return r.NoMemory ? MigrateRc.ENoMem : failed;
    }

    /// <summary>
    /// putback_movable_pages (v4.8): each page off the list; a non-LRU movable page (recognised by
    /// <c>__PageMovable</c>, which no LRU page can be) goes back to its owner, or is only unflagged if the owner released
    /// it meanwhile, and loses the isolation reference; an LRU page goes back to its LRU list and NR_ISOLATED_* drops.
    /// </summary>
    [Preemptible]
    public void PutbackMovablePages(int list)
    {
        using var _ = scheduler.Current.Path.Enter("putback_movable_pages");
        MigrateLists.PutbackEach(lists, list, page =>
        {
            if (pages.PageMovableUnlocked(page)) PutbackNonLruMovablePage(page);
            else
            {
                lru.PutbackLruPage(page);
                lru.ModIsolated(page, -1);
            }
        });
    }

    /// <summary>putback_movable_pages' branch for a non-LRU movable page (v4.8, the same in 6.1).</summary>
    [Preemptible]
    internal void PutbackNonLruMovablePage(int page)
    {
        if (!pages.PageIsolated(page)) sanitizer.VmBugOnPage(page, "!PageIsolated(page)", "putback_movable_pages", pages);
        isolation.PutbackOrRelease(page);
    }

    /// <summary>
    /// unmap_and_move (v4.8): get a target first; if the isolation holds the last reference the page was freed under
    /// us (a non-LRU page its owner released only loses PG_isolated) and counts as migrated. Afterwards, unless it is
    /// to be retried, the page leaves the list (NR_ISOLATED_* lowered for LRU pages only); on success the isolation
    /// reference is dropped, which frees it; on failure an LRU page goes back to its LRU, a non-LRU page to its owner
    /// (or is freed if the owner let go), and the target goes back through put_new_page.
    /// </summary>
    [Preemptible]
    public int UnmapAndMove([Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, int page, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("unmap_and_move");
        int newpage = getNewPage(page);
        if (newpage < 0) return MigrateRc.ENoMem;
        int rc = MigrateRc.Success;
        if (pages.Count[page] == 1)
        {
            FreedUnderUs(page);
            PutNewPage(putNewPage, newpage);
        }
        else rc = UnmapAndMoveLocked(page, newpage, force, mode);

        if (rc != MigrateRc.EAgain)
        {
            lists.Del(page);
            if (!pages.PageMovableUnlocked(page)) lru.ModIsolated(page, -1);
        }
        if (rc == MigrateRc.Success)
        {
            lru.PutPage(page);
            return rc;
        }
        if (rc != MigrateRc.EAgain)
        {
            if (pages.PageMovableUnlocked(page)) isolation.PutbackOrRelease(page);
            else lru.PutbackLruPage(page);
        }
        PutNewPage(putNewPage, newpage);
        return rc;
    }

    /// <summary>
    /// unmap_and_move's "page was freed from under us" (v4.8): the page loses PG_active and PG_unevictable; a non-LRU page
    /// its owner released meanwhile (<c>!PageMovable</c> under the page lock) loses PG_isolated.
    /// </summary>
    [Preemptible]
    private void FreedUnderUs(int page)
    {
        pages.Clear(page, PG.Active | PG.Unevictable);
        if (!pages.PageMovableUnlocked(page)) return;
        pageLock.Lock(page);
        if (!movable.PageMovable(page)) pages.Clear(page, PG.Isolated);
        pageLock.Unlock(page);
    }

    /// <summary>
    /// __unmap_and_move (v4.8): remember whether the page is an LRU page (<c>!__PageMovable</c>) before locking it;
    /// lock it (a trylock in async mode, before pass 3, or under PF_MEMALLOC); wait for writeback only in MIGRATE_SYNC;
    /// trylock newpage (-EAGAIN if someone holds it). A non-LRU page goes straight to move_to_new_page; an LRU page
    /// is unmapped first and its PTEs restored after. Both pages unlocked, a migrated-to newpage is then judged by
    /// <c>__PageMovable(newpage)</c> — after the unlock, but its owner cannot free it while migration holds its
    /// reference, and a release keeps the tag, so the test cannot go wrong (the 2019 stable fix is not needed here).
    /// </summary>
    [Preemptible]
    private int UnmapAndMoveLocked(int page, int newpage, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("__unmap_and_move");
        int rc = MigrateRc.EAgain;
        bool isLru = !pages.PageMovableUnlocked(page);
        int locked = migrationLock.Lock(page, force, mode);
        if (locked != MigrateRc.Success) return locked;
        if (!pageLock.TryLock(newpage)) goto outUnlock;
        if (!isLru) rc = MoveToNewPage(newpage, page, mode);
        else rc = UnmapAndMoveLru(page, newpage, mode);
        pageLock.Unlock(newpage);
    outUnlock:
        pageLock.Unlock(page);
        if (rc == MigrateRc.Success)
        {
            if (pages.PageMovableUnlocked(newpage)) lru.PutPage(newpage);
            else lru.PutbackLruPage(newpage);
        }
        return rc;
    }

    /// <summary>
    /// The LRU part of __unmap_and_move (v4.8), both pages locked: a page without a mapping but with private data is
    /// only freed of its buffers (-EAGAIN); a mapped page's PTEs become migration entries; an unmapped page moves, and
    /// the entries are made PTEs again, of newpage if it moved.
    /// </summary>
    [Preemptible]
    private int UnmapAndMoveLru(int page, int newpage, MigrateMode mode)
    {
        bool pageWasMapped = false;
        if (pages.Mapping[page] == 0)
        {
            if ((pages.Flags[page] & (uint)(PG.Private | PG.Private2)) != 0) return MigrateRc.EAgain; // try_to_free_buffers
        }
        else if (pages.PageMapped(page))
        {
            rmap.TryToUnmap(page);
            pageWasMapped = true;
        }
        int rc = pages.PageMapped(page) ? MigrateRc.EAgain : MoveToNewPage(newpage, page, mode);
        if (pageWasMapped) rmap.RemoveMigrationPtes(page, rc == MigrateRc.Success ? newpage : page);
        return rc;
    }

    /// <summary>
    /// move_to_new_page (v4.8), both pages locked. An LRU page goes through its mapping's migratepage (migrate_page for
    /// anonymous pages); on success newpage takes the page's index, mapping and PG_swapbacked. A non-LRU page is
    /// isolated (VM_BUG_ON_PAGE otherwise); if its owner released it meanwhile (<c>!PageMovable</c>) it counts as migrated
    /// with PG_isolated cleared and nothing called, else its owner's <c>a_ops-&gt;migratepage</c> moves it. On success a
    /// non-LRU page loses PG_isolated under the page lock, and a page with no tag bits in its mapping loses the mapping
    /// (anonymous and movable mappings stay for free_pages_prepare). Nothing clears newpage's mapping on failure: the
    /// step that made v3.16's balloon pages unmovable (defect 2) is gone. 6.1's move_to_new_folio does the same for the
    /// pages modelled here (<see cref="V6_1.Migration"/> calls this one).
    /// </summary>
    [Preemptible]
    internal int MoveToNewPage(int newpage, int page, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("move_to_new_page");
        if (!pages.PageLocked(page) || !pages.PageLocked(newpage))
            sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(!PageLocked) in move_to_new_page: pfn {page} or newpage pfn {newpage} not locked");
        int rc;
        if (!pages.PageMovableUnlocked(page)) rc = MigrateLruPage(newpage, page, mode);
        else
        {
            if (!pages.PageIsolated(page)) sanitizer.VmBugOnPage(page, "!PageIsolated(page)", "move_to_new_page", pages);
            if (!movable.PageMovable(page))
            {
                pages.Clear(page, PG.Isolated);
                return MigrateRc.Success;
            }
            rc = movable.Ops(page)!.MigratePage(newpage, page, mode);
            if (rc == MigrateRc.Success && !pages.PageIsolated(page))
                sanitizer.Report(ReportKind.VmBug, page, $"WARNING in move_to_new_page: WARN_ON_ONCE(rc == MIGRATEPAGE_SUCCESS && !PageIsolated(page)) ({pages.DumpPage(page)})");
        }
        if (rc == MigrateRc.Success)
        {
            if (pages.PageMovableUnlocked(page)) pages.Clear(page, PG.Isolated);
            if ((pages.Mapping[page] & MappingTable.PageMappingFlags) == 0) pages.Mapping[page] = 0;
        }
        return rc;
    }

    /// <summary>
    /// move_to_new_page's LRU branch (v4.8): migrate_page without a mapping, the mapping's migratepage, or
    /// fallback_migrate_page; what migrate_page_move_mapping sets on newpage once the move is certain follows success.
    /// </summary>
    [Preemptible]
    private int MigrateLruPage(int newpage, int page, MigrateMode mode)
    {
        int rc = callbacks.MappingMigratepage(newpage, page, mode);
        if (rc != MigrateRc.Success) return rc;
        pages.Index[newpage] = pages.Index[page];
        pages.Mapping[newpage] = pages.Mapping[page];
        if (pages.Test(page, PG.SwapBacked)) pages.Set(newpage, PG.SwapBacked);
        return rc;
    }

    /// <summary>put_new_page if the caller gave one, else put_page.</summary>
    [Preemptible]
    private void PutNewPage([Preemptible] Action<int>? putNewPage, int newpage)
    {
        if (putNewPage is not null) putNewPage(newpage);
        else lru.PutPage(newpage);
    }
}
