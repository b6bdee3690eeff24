using System.Runtime.CompilerServices;
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
internal sealed partial class Migration(PageTable pages, PageLists lists, Lru lru, Rmap rmap, MappingTable mappings,
    PageLock pageLock, Scheduler scheduler, SimClock clock, VmStat vmstat, Sanitizer sanitizer, BalloonPageOps balloonLib,
    IBalloonMovability balloonIdentity, IBalloonMigrationPath balloon, MigratePageCallbacks callbacks, MigrationPageLock migrationLock) : IMigration
{
    public const int MaxPasses = MigrateLists.MaxPasses;

    /// <summary>
    /// migrate_pages (v3.16): up to 10 passes over <paramref name="from"/> while pages ask to be retried
    /// (force = pass &gt; 2). -ENOMEM (no target page) stops at once. Returns -ENOMEM or the number of pages
    /// not migrated (failed + still retrying); those stay on the list for putback_movable_pages.
    /// pgmigrate_success / pgmigrate_fail count successes and permanent failures, not the retries left over.
    /// </summary>
    // Never inlined: compact_zone runs once per zone, in its on-stack-replacement build, which ran out of inlining budget
    // with this inlined; on its own this reaches the optimised tier with the per-page paths inlined.
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int MigratePages(int from, [Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("migrate_pages");
        var r = MigrateLists.MigratePagesPasses(scheduler, lists, clock, from, (page, force) => UnmapAndMove(getNewPage, putNewPage, page, force, mode));
        if (r.Succeeded > 0) vmstat.Count(VmEvent.PgmigrateSuccess, r.Succeeded);
        if (r.Failed > 0) vmstat.Count(VmEvent.PgmigrateFail, r.Failed);
        return r.NoMemory ? MigrateRc.ENoMem : r.Failed + r.Retry;
    }

    /// <summary>
    /// putback_movable_pages: every page left on the list goes back where it came from (balloon pages to the
    /// balloon, others to the LRU), NR_ISOLATED_* lowered.
    /// </summary>
    [Preemptible]
    public void PutbackMovablePages(int list)
    {
        using var _ = scheduler.Current.Path.Enter("putback_movable_pages");
        MigrateLists.PutbackEach(lists, list, page =>
        {
            lru.ModIsolated(page, -1);
            if (balloonIdentity.IsolatedBalloonPage(page)) balloonLib.Putback(page);
            else lru.PutbackLruPage(page);
        });
    }

    /// <summary>
    /// unmap_and_move (v3.16): get a target; if the isolation holds the last reference the page was freed
    /// under us (success, nothing to copy). Afterwards the old page leaves the list unless it is to be
    /// retried, and the target goes back to the allocator's callback on failure, is only unreferenced if the
    /// balloon took it (redesign), or joins the LRU.
    /// </summary>
    [Preemptible]
    public int UnmapAndMove([Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, int page, bool force, MigrateMode mode)
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
            lru.ModIsolated(page, -1);
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
    /// PF_MEMALLOC), keep anon pages' anon_vma (an unmapped swap-cache page moves without one), take the balloon
    /// branch if the design's test says so, else replace the PTEs by migration entries (a swap-cache page's by its swap
    /// entries) and move the page; on failure restore the PTEs (migration entries only).
    /// </summary>
    [Preemptible]
    private int UnmapAndMoveLocked(int page, int newpage, bool force, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("__unmap_and_move");
        int rc = migrationLock.Lock(page, force, mode);
        if (rc != MigrateRc.Success) return rc;
        rc = MigrateRc.EAgain;
        // page_get_anon_vma: a mapped page's live anon_vma; without it only a swap-cache page migrates (remap_swapcache
        // = 0: it is unmapped, so no migration entries are made or restored), any other anonymous page is retried later.
        if (pages.PageAnon(page) && !(pages.PageMapped(page) && mappings.KindOf(pages.Mapping[page]) == MappingObject.AnonVma)
            && !pages.Test(page, PG.SwapCache))
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
        // try_to_unmap_one (v3.16, until 4.5's "mm: page migration use migration entry for swapcache too"): a mapped
        // swap-cache page's PTEs become its swap entries, not migration entries, so nothing maps the page again after
        // the move (or a failure): it stays in the swap cache, unmapped, until a fault finds it there.
        else if (pages.PageAnon(page) && pages.Test(page, PG.SwapCache)) rmap.TryToUnmapSwapCache(page, ignoreAccess: true);
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
    [Preemptible]
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
        int rc = callbacks.MappingMigratepage(newpage, page, mode);
        if (rc != MigrateRc.Success) pages.Mapping[newpage] = 0;
        else
        {
            rmap.RemoveMigrationPtes(page, newpage);
            pages.Mapping[page] = 0;
        }
        pageLock.Unlock(newpage);
        return rc;
    }
}
