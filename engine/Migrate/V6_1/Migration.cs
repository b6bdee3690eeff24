using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Migrate.V6_1;

/// <summary>
/// Page migration, 6.1.78 mm/migrate.c (Natsume324/MagicPad2_OS9.0_Kernel): <c>migrate_pages</c>, <c>unmap_and_move</c>
/// and <c>__unmap_and_move</c> as 6.1 has them; <c>move_to_new_folio</c> and <c>putback_movable_pages</c> do for the pages
/// modelled here what v4.8's did, so they are v4.8's (<see cref="V4_8.Migration"/>). What 6.1 changed: a page freed
/// while isolated is found before a target is taken; a page that fails for good stays isolated on a list of its own
/// (<c>ret_pages</c>), spliced back onto the caller's list after the passes for its putback; NR_ISOLATED_* falls at
/// once only for a page migrated; on success the new page goes to the LRU while both pages are still locked
/// (<c>folio_add_lru</c>, with <c>lru_add_drain</c> if the page was mapped) and migration's reference to it is dropped
/// after; -ENOMEM counts in pgmigrate_fail the pages of its pass that wait for a retry too; a PTE's young bit survives
/// the migration entry (x86-64 has room for it unless an L1TF-affected CPU limits the swap offset: docs/model.md). Not
/// modelled: THP and hugetlb folios (none migrate here), and the PTE dirty bit (the model keeps PG_dirty only).
/// </summary>
[KernelPart("migration", PartVersion.V6_1)]
internal sealed partial class Migration(PageTable pages, PageLists lists, Lru lru, Rmap rmap, PageLock pageLock, Scheduler scheduler,
    SimClock clock, VmStat vmstat, MigrationPageLock migrationLock, V4_8.Migration v48) : IMigration
{
    /// <summary>
    /// migrate_pages (6.1): up to 10 passes while pages ask to be retried (<c>force</c> from the fourth); -ENOMEM ends
    /// them. Returns -ENOMEM, or the pages that failed for good plus those still retrying, which are all on
    /// <paramref name="from"/> again for the caller's putback. pgmigrate_fail counts the same pages, and on -ENOMEM its
    /// page and the pages of its pass waiting for a retry.
    /// </summary>
    [Preemptible]
    public int MigratePages(int from, [Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("migrate_pages");
        int retPages = lists.NewHead();
        var r = MigrateLists.MigratePagesPasses(scheduler, lists, clock, from,
            (page, force) => UnmapAndMove(getNewPage, putNewPage, page, force, mode, retPages));
        lists.SpliceAll(retPages, from);
        lists.FreeHead(retPages);
        int failedPages = r.NoMemory ? r.Failed + 1 + r.Retry : r.Failed + r.Retry;
        if (r.Succeeded > 0) vmstat.Count(VmEvent.PgmigrateSuccess, r.Succeeded);
        if (failedPages > 0) vmstat.Count(VmEvent.PgmigrateFail, failedPages);
        return r.NoMemory ? MigrateRc.ENoMem : r.Failed + r.Retry;
    }

    /// <summary>
    /// putback_movable_pages (6.1): a non-LRU movable page as in v4.8; an LRU page has NR_ISOLATED_* lowered before
    /// putback_lru_page (v4.8 lowered it after, reading the page's type from a page that putback may have freed).
    /// </summary>
    [Preemptible]
    public void PutbackMovablePages(int list)
    {
        using var _ = scheduler.Current.Path.Enter("putback_movable_pages");
        MigrateLists.PutbackEach(lists, list, page =>
        {
            if (pages.PageMovableUnlocked(page)) v48.PutbackNonLruMovablePage(page);
            else
            {
                lru.ModIsolated(page, -1);
                lru.PutbackLruPage(page);
            }
        });
    }

    /// <summary>
    /// unmap_and_move (6.1): a page whose only reference is the isolation one was freed under us and counts as migrated,
    /// without a target taken; else a target, or -ENOMEM.
    /// Unless it is to be retried the page leaves the list: migrated, its NR_ISOLATED_* falls (LRU pages) and the
    /// isolation reference goes, which frees it; failed for good, it joins <paramref name="retPages"/>, still isolated.
    /// A target not used goes back through put_new_page.
    /// </summary>
    [Preemptible]
    private int UnmapAndMove([Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, int page, bool force, MigrateMode mode, int retPages)
    {
        using var _ = scheduler.Current.Path.Enter("unmap_and_move");
        int rc = MigrateRc.Success, newpage = -1;
        // "Page was freed from under us": 6.1 clears only these two; free_pages_prepare clears PG_isolated (no page lock,
        // no PageMovable test, where v4.8 took both for a non-LRU page).
        if (pages.Count[page] == 1) pages.Clear(page, PG.Active | PG.Unevictable);
        else
        {
            newpage = getNewPage(page);
            if (newpage < 0) return MigrateRc.ENoMem;
            rc = UnmapAndMoveLocked(page, newpage, force, mode);
        }
        if (rc != MigrateRc.EAgain) lists.Del(page);
        if (rc == MigrateRc.Success)
        {
            if (!pages.PageMovableUnlocked(page)) lru.ModIsolated(page, -1);
            lru.PutPage(page);
            return rc;
        }
        if (rc != MigrateRc.EAgain) lists.AddTail(page, retPages);
        if (putNewPage is not null) putNewPage(newpage);
        else lru.PutPage(newpage);
        return rc;
    }

    /// <summary>
    /// __unmap_and_move (6.1): lock the page (<see cref="MigrationPageLock"/>), trylock the target; a non-LRU page moves
    /// at once; an LRU page without a mapping but with private data is only freed of its buffers (-EAGAIN); a mapped
    /// one's PTEs become migration entries; an unmapped page moves. On success the target joins the LRU (this CPU's
    /// batch, drained if the page was mapped) before the entries become PTEs again — of the target if it moved. Both
    /// pages unlocked, migration's reference to a migrated-to target is dropped.
    /// </summary>
    [Preemptible]
    private int UnmapAndMoveLocked(int page, int newpage, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("__unmap_and_move");
        int rc = MigrateRc.EAgain;
        bool isLru = !pages.PageMovableUnlocked(page), pageWasMapped = false;
        int locked = migrationLock.Lock(page, force, mode);
        if (locked != MigrateRc.Success) return locked;
        if (!pageLock.TryLock(newpage)) goto outUnlock;
        if (!isLru)
        {
            rc = v48.MoveToNewPage(newpage, page, mode);
            goto outUnlockBoth;
        }
        if (pages.Mapping[page] == 0)
        {
            if ((pages.Flags[page] & (uint)(PG.Private | PG.Private2)) != 0) goto outUnlockBoth; // try_to_free_buffers
        }
        else if (pages.PageMapped(page))
        {
            rmap.TryToUnmap(page, youngEntries: true);
            pageWasMapped = true;
        }
        if (!pages.PageMapped(page)) rc = v48.MoveToNewPage(newpage, page, mode);
        if (rc == MigrateRc.Success)
        {
            lru.LruCacheAdd(newpage); // folio_add_lru
            if (pageWasMapped) lru.LruAddDrain();
        }
        if (pageWasMapped) rmap.RemoveMigrationPtes(page, rc == MigrateRc.Success ? newpage : page, youngEntries: true);
    outUnlockBoth:
        pageLock.Unlock(newpage);
    outUnlock:
        pageLock.Unlock(page);
        if (rc == MigrateRc.Success) lru.PutPage(newpage); // folio_put(dst)
        return rc;
    }
}
