using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// mm/balloon_compaction.c of v3.8–v4.7: the balloon's own isolation and migration, called from the balloon
/// branches of compaction and migration (<c>balloon_page_isolate</c>, <c>balloon_page_putback</c>,
/// <c>balloon_page_migrate</c>), and v3.8–v3.17's <c>balloon_page_free</c>. The version's
/// <see cref="IBalloonMovability"/> says how a page is recognised and what isolation changes. v4.8 replaced these
/// functions with balloon_aops (<see cref="V4_8.BalloonAops"/>).
/// </summary>
internal sealed partial class BalloonPageOps(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock, PageRefs refs,
    IBuddyAllocator buddy, Lru lru, Sanitizer sanitizer, Scheduler scheduler, IBalloonMovability movability)
{
    /// <summary>
    /// balloon_page_isolate (v3.16 = v3.18 shape): speculative reference, trylock, the version's re-check
    /// under the page lock, then off the balloon list with <c>isolated_pages++</c>. True keeps the extra
    /// reference (the caller links the page into its migrate list).
    /// </summary>
    [Preemptible]
    public bool BalloonPageIsolate(int page)
    {
        using var _ = Enter("balloon_page_isolate");
        if (!refs.GetPageUnlessZero(page)) return false;
        if (pageLock.TryLock(page))
        {
            if (movability.IsolationRecheck(page) && HasDevice(page))
            {
                // __isolate_balloon_page
                dev.PagesLock.Lock();
                movability.OnIsolate(page);
                lists.Del(page);
                dev.IsolatedPages++;
                dev.PagesLock.Unlock();
                pageLock.Unlock(page);
                return true;
            }
            pageLock.Unlock(page);
        }
        // put_page: by now the page may be no balloon page but an LRU page whose other references went meanwhile
        // (migrated, freed and reused): the last reference takes it off its LRU list first.
        lru.PutPage(page);
        return false;
    }

    /// <summary>balloon_page_putback: back at the head of the balloon list, isolation reference dropped.</summary>
    [Preemptible]
    public void Putback(int page)
    {
        using var _ = Enter("balloon_page_putback");
        pageLock.Lock(page);
        if (movability.IsMovableBalloonPage(page) && HasDevice(page))
        {
            // __putback_balloon_page
            dev.PagesLock.Lock();
            movability.OnPutback(page);
            lists.Add(page, dev.Pages);
            dev.IsolatedPages--;
            dev.PagesLock.Unlock();
            buddy.PutPage(page);
        }
        else
        {
            sanitizer.Report(ReportKind.VmBug, page, $"WARNING in balloon_page_putback: not movable balloon page (pfn {page}, {pages.DumpPage(page)})");
        }
        pageLock.Unlock(page);
    }

    /// <summary>
    /// balloon_page_migrate: lock <paramref name="newpage"/>, re-check that <paramref name="page"/> (locked by
    /// migration) is a balloon page, and let the driver move it. -EAGAIN when it cannot.
    /// </summary>
    [Preemptible]
    public int BalloonPageMigrate(int newpage, int page, MigrateMode mode)
    {
        using var _ = Enter("balloon_page_migrate");
        if (!pageLock.TryLock(newpage))
        {
            sanitizer.Report(ReportKind.VmBug, newpage, "kernel BUG in balloon_page_migrate: BUG_ON(!trylock_page(newpage))");
            return MigrateRc.EAgain;
        }
        int rc = MigrateRc.EAgain;
        if (!movability.IsMovableBalloonPage(page))
            sanitizer.Report(ReportKind.VmBug, page, $"WARNING in balloon_page_migrate: not movable balloon page (pfn {page}, {pages.DumpPage(page)})");
        else
            rc = movability.CallMigratepage(newpage, page, mode);
        pageLock.Unlock(newpage);
        return rc;
    }

    /// <summary>
    /// balloon_page_free (v3.8–v3.17 only): <c>put_page</c> drops the extra reference of isolation or dequeue (the
    /// LRU-aware one: a page that has become an LRU page since, its last reference, leaves its list and is freed), then
    /// <c>__free_page</c> the page's own (put_page_testzero and the free, no LRU).
    /// </summary>
    [Preemptible]
    public void BalloonPageFree(int page)
    {
        using var _ = Enter("balloon_page_free");
        lru.PutPage(page);
        buddy.PutPage(page);
    }

    private CallPath.Frame Enter(string function) => scheduler.Current.Path.Enter(function);

    /// <summary>
    /// The device pointer a balloon function dereferences. Only a page the re-check wrongly took for a balloon
    /// page (a garbage AS_BALLOON_MAP bit read by KASAN's victim) names something else: a wild pointer.
    /// </summary>
    private bool HasDevice(int page)
    {
        if (movability.Device(page) == BalloonDevInfo.Id) return true;
        sanitizer.Report(ReportKind.Kasan, page, $"BUG: unable to handle kernel paging request: pfn {page} names no balloon_dev_info ({pages.DumpPage(page)})");
        return false;
    }
}
