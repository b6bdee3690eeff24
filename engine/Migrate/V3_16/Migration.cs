using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Migrate.V3_16;

/// <summary>
/// Page migration, v3.16 mm/migrate.c: <c>migrate_pages</c> (10 passes), <c>unmap_and_move</c>,
/// <c>__unmap_and_move</c>, <c>move_to_new_page</c>, <c>putback_movable_pages</c>. Where balloon pages are
/// treated differently per design, the design's <see cref="IBalloonMigrationPath"/> is asked.
/// </summary>
[KernelPart("migration", PartVersion.V3_16)]
internal sealed class Migration(PageTable pages, PageLists lists, Node node, Lru lru, Rmap rmap, MappingTable mappings,
    PageLock pageLock, Scheduler scheduler, SimClock clock, VmStat vmstat, Sanitizer sanitizer, BalloonCompaction balloonLib,
    IBalloonPageIdentity balloonIdentity, IBalloonMigrationPath balloon, MigratePageCallbacks callbacks) : IMigration
{
    public const int MaxPasses = 10;

    /// <summary>
    /// migrate_pages (v3.16): up to 10 passes over <paramref name="from"/> while pages ask to be retried
    /// (force = pass &gt; 2). -ENOMEM (no target page) stops at once. Returns -ENOMEM or the number of pages
    /// not migrated (failed + still retrying); those stay on the list for putback_movable_pages.
    /// pgmigrate_success / pgmigrate_fail count successes and permanent failures, not the retries left over.
    /// </summary>
    public int MigratePages(int from, Func<int, int> getNewPage, Action<int>? putNewPage, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("migrate_pages");
        var task = scheduler.Current;
        var savedFlags = task.Flags;
        task.Flags |= PF.SwapWrite;
        int retry = 1, nrFailed = 0, nrSucceeded = 0;
        bool noMemory = false, broken = false;
        for (int pass = 0; pass < MaxPasses && retry > 0 && !noMemory && !broken; pass++)
        {
            retry = 0;
            var walk = lists.Entries(from, "migrate_pages");
            while (walk.MoveNext())
            {
                int page = walk.Current;
                clock.CondResched();
                int rc = UnmapAndMove(getNewPage, putNewPage, page, pass > 2, mode);
                if (noMemory = rc == MigrateRc.ENoMem) break;
                if (rc == MigrateRc.EAgain) retry++;
                else if (rc == MigrateRc.Success) nrSucceeded++;
                else nrFailed++;
            }
            broken = walk.Broken;
        }
        if (nrSucceeded > 0) vmstat.Count(VmEvent.PgmigrateSuccess, nrSucceeded);
        if (nrFailed > 0) vmstat.Count(VmEvent.PgmigrateFail, nrFailed);
        if ((savedFlags & PF.SwapWrite) == 0) task.Flags &= ~PF.SwapWrite;
        return noMemory ? MigrateRc.ENoMem : nrFailed + retry;
    }

    /// <summary>
    /// putback_movable_pages: every page left on the list goes back where it came from (balloon pages to the
    /// balloon, others to the LRU), NR_ISOLATED_* lowered.
    /// </summary>
    public void PutbackMovablePages(int list)
    {
        using var _ = scheduler.Current.Path.Enter("putback_movable_pages");
        foreach (int page in lists.Entries(list, "putback_movable_pages"))
        {
            lists.Del(page);
            DecIsolated(page);
            if (balloonIdentity.IsolatedBalloonPage(page)) balloonLib.Putback(page);
            else lru.PutbackLruPage(page);
        }
    }

    /// <summary>
    /// unmap_and_move (v3.16): get a target; if the isolation holds the last reference the page was freed
    /// under us (success, nothing to copy). Afterwards the old page leaves the list unless it is to be
    /// retried, and the target goes back to the allocator's callback on failure, is only unreferenced if the
    /// balloon took it (redesign), or joins the LRU.
    /// </summary>
    public int UnmapAndMove(Func<int, int> getNewPage, Action<int>? putNewPage, int page, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("unmap_and_move");
        int newpage = getNewPage(page);
        if (newpage < 0) return MigrateRc.ENoMem;
        bool savedIsBalloon = balloon.SaveIsBalloonPage(page);
        int rc = MigrateRc.Success;
        if (pages.Count[page] != 1)
        {
            rc = UnmapAndMoveLocked(page, newpage, force, mode);
            if (balloon.HandleBalloonSuccess(rc, page)) return MigrateRc.Success;
        }
        if (rc != MigrateRc.EAgain)
        {
            lists.Del(page);
            DecIsolated(page);
            lru.PutbackLruPage(page);
        }
        if (rc != MigrateRc.Success && putNewPage is not null)
        {
            pages.Clear(newpage, PG.SwapBacked); // 3.16-rc7 fix: a stray PG_swapbacked on a reused target
            putNewPage(newpage);
        }
        else if (balloon.NewPageIsBalloon(newpage, savedIsBalloon)) lru.PutPage(newpage);
        else lru.PutbackLruPage(newpage);
        return rc;
    }

    /// <summary>
    /// __unmap_and_move (v3.16): lock the page (only a trylock in async mode, before pass 3, or under
    /// PF_MEMALLOC), keep anon pages' anon_vma, take the balloon branch if the design's test says so, else
    /// replace the PTEs by migration entries and move the page; on failure restore the PTEs.
    /// </summary>
    private int UnmapAndMoveLocked(int page, int newpage, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("__unmap_and_move");
        int rc = MigrateRc.EAgain;
        if (!pageLock.TryLock(page))
        {
            if (!force || mode == MigrateMode.Async) return rc;
            if ((scheduler.Current.Flags & PF.MemAlloc) != 0) return rc;
            pageLock.Lock(page);
        }
        if (pages.Test(page, PG.Writeback))
        {
            if (mode != MigrateMode.Sync) rc = MigrateRc.EBusy;
            if (mode != MigrateMode.Sync || !force) goto outUnlock;
            scheduler.WaitUntil(() => !pages.Test(page, PG.Writeback), pageLock, "wait_on_page_writeback");
        }
        // page_get_anon_vma: a mapped page's live anon_vma; without it (no swap cache here) retry later.
        if (pages.PageAnon(page) && !(pages.PageMapped(page) && mappings.KindOf(pages.Mapping[page]) == MappingObject.AnonVma))
            goto outUnlock;
        if (balloon.MigrationBranch(page))
        {
            rc = balloonLib.BalloonPageMigrate(newpage, page, mode);
            goto outUnlock;
        }
        if (pages.Mapping[page] == 0)
        {
            if ((pages.Flags[page] & (uint)(PG.Private | PG.Private2)) != 0) goto outUnlock; // try_to_free_buffers
        }
        else rmap.TryToUnmap(page);
        if (!pages.PageMapped(page)) rc = MoveToNewPage(newpage, page, mode);
        if (rc != MigrateRc.Success) rmap.RemoveMigrationPtes(page, page);
    outUnlock:
        pageLock.Unlock(page);
        return rc;
    }

    /// <summary>
    /// move_to_new_page (v3.16): lock the target, give it the page's index and mapping (a preemption point: the
    /// window of defect 1, where another CPU's scanner may read the half-built target), call the mapping's
    /// migratepage; on failure clear the target's mapping again, on success re-establish the PTEs on the
    /// target and clear the old page's mapping.
    /// </summary>
    private int MoveToNewPage(int newpage, int page, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("move_to_new_page");
        if (!pageLock.TryLock(newpage))
        {
            sanitizer.Report(ReportKind.VmBug, newpage, "kernel BUG in move_to_new_page: trylock_page(newpage) failed");
            return MigrateRc.EAgain;
        }
        pages.Index[newpage] = pages.Index[page];
        pages.Mapping[newpage] = pages.Mapping[page];
        scheduler.Preempt("move_to_new_page: newpage->mapping set");
        if (pages.Test(page, PG.SwapBacked)) pages.Set(newpage, PG.SwapBacked);
        int mapping = Rmap.PageMapping(pages, page);
        int rc = mapping == 0 ? callbacks.MigratePage(0, newpage, page) : mappings.MigratePage(mapping) switch
        {
            MigratePageOp.Generic => callbacks.MigratePage(mapping, newpage, page),
            MigratePageOp.Driver => mappings.CallDriverMigratePage(mapping, newpage, page, mode),
            _ => callbacks.FallbackMigratePage(mapping, newpage, page, mode),
        };
        if (rc != MigrateRc.Success) pages.Mapping[newpage] = 0;
        else
        {
            rmap.RemoveMigrationPtes(page, newpage);
            pages.Mapping[page] = 0;
        }
        pageLock.Unlock(newpage);
        return rc;
    }

    /// <summary>dec_zone_page_state(page, NR_ISOLATED_ANON + page_is_file_cache(page)).</summary>
    private void DecIsolated(int page) =>
        node.ZoneOf(page).Stat[(int)ZoneStat.NrIsolatedAnon + (lru.PageIsFileCache(page) ? 1 : 0)]--;
}
