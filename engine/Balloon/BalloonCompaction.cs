using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// mm/balloon_compaction.c of v3.8–v4.7: the function bodies the versions share (enqueue, dequeue, isolate,
/// putback, migrate). What a version changed is composed in: how a page is marked and recognised
/// (<see cref="IBalloonPageIdentity"/>) and the dequeue walk (<see cref="IDequeueWalk"/>); compaction and
/// migration reach isolate/putback/migrate through their own version's hooks (<see cref="IScannerIsolation"/>,
/// <see cref="IBalloonMigrationPath"/>).
/// <para>
/// balloon_inflate / balloon_deflate / balloon_migrate are v3.18 vm events; v3.8–v3.17 had no balloon
/// counters at all. They are counted in every design so that designs can be compared.
/// </para>
/// </summary>
internal sealed class BalloonCompaction(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock, PageRefs refs,
    IBuddyAllocator buddy, Lazy<IPageAllocator> allocator, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler,
    IBalloonPageIdentity identity, IDequeueWalk dequeueWalk)
    : IBalloonCompaction
{
    /// <summary>balloon_mapping_gfp_mask() | __GFP_NOMEMALLOC | __GFP_NORETRY, with CONFIG_BALLOON_COMPACTION.</summary>
    public const Gfp BalloonGfp = Gfp.HighUserMovable | Gfp.NoMemAlloc | Gfp.NoRetry;

    /// <summary>
    /// balloon_page_enqueue: allocate a page and put it at the head of the balloon list. Returns its PFN, or
    /// -1 when the allocation fails.
    /// </summary>
    public int Enqueue()
    {
        using var _ = Enter("balloon_page_enqueue");
        int page = AllocPage();
        if (page < 0) return -1;
        if (!pageLock.TryLock(page))
            sanitizer.Report(ReportKind.VmBug, page, "kernel BUG in balloon_page_enqueue: BUG_ON(!trylock_page(page)) on a new page");
        dev.PagesLock.Lock();
        BalloonPageInsert(page);
        vmstat.Count(VmEvent.BalloonInflate);
        dev.PagesLock.Unlock();
        pageLock.Unlock(page);
        return page;
    }

    /// <summary>
    /// balloon_page_dequeue: the version's walk takes one page off the balloon for the driver to give back; -1
    /// if none could be taken (all locked or isolated right now). An empty list with nothing isolated is the
    /// kernel's <c>BUG()</c> "balloon pages lost".
    /// </summary>
    public int Dequeue()
    {
        using var _ = Enter("balloon_page_dequeue");
        int page = dequeueWalk.Dequeue();
        if (page >= 0) return page;
        dev.PagesLock.Lock();
        if (lists.Empty(dev.Pages) && dev.IsolatedPages == 0)
            sanitizer.Report(ReportKind.VmBug, -1,
                "kernel BUG at mm/balloon_compaction.c: balloon_page_dequeue: the balloon list is empty and no page is isolated (balloon pages lost)");
        dev.PagesLock.Unlock();
        return -1;
    }

    /// <summary>
    /// balloon_page_isolate (v3.16 = v3.18 shape): speculative reference, trylock, the version's re-check
    /// under the page lock, then off the balloon list with <c>isolated_pages++</c>. True keeps the extra
    /// reference (the caller links the page into its migrate list).
    /// </summary>
    public bool BalloonPageIsolate(int page)
    {
        using var _ = Enter("balloon_page_isolate");
        if (!refs.GetPageUnlessZero(page)) return false;
        if (pageLock.TryLock(page))
        {
            if (identity.IsolationRecheck(page) && HasDevice(page))
            {
                // __isolate_balloon_page
                dev.PagesLock.Lock();
                identity.OnIsolate(page);
                lists.Del(page);
                dev.IsolatedPages++;
                dev.PagesLock.Unlock();
                pageLock.Unlock(page);
                return true;
            }
            pageLock.Unlock(page);
        }
        buddy.PutPage(page);
        return false;
    }

    /// <summary>balloon_page_putback: back at the head of the balloon list, isolation reference dropped.</summary>
    public void Putback(int page)
    {
        using var _ = Enter("balloon_page_putback");
        pageLock.Lock(page);
        if (identity.IsMovableBalloonPage(page) && HasDevice(page))
        {
            // __putback_balloon_page
            dev.PagesLock.Lock();
            identity.OnPutback(page);
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
    public int BalloonPageMigrate(int newpage, int page, MigrateMode mode)
    {
        using var _ = Enter("balloon_page_migrate");
        if (!pageLock.TryLock(newpage))
        {
            sanitizer.Report(ReportKind.VmBug, newpage, "kernel BUG in balloon_page_migrate: BUG_ON(!trylock_page(newpage))");
            return MigrateRc.EAgain;
        }
        int rc = MigrateRc.EAgain;
        if (!identity.IsMovableBalloonPage(page))
            sanitizer.Report(ReportKind.VmBug, page, $"WARNING in balloon_page_migrate: not movable balloon page (pfn {page}, {pages.DumpPage(page)})");
        else
            rc = identity.CallMigratepage(newpage, page, mode);
        pageLock.Unlock(newpage);
        return rc;
    }

    /// <summary>balloon_page_insert: mark <paramref name="page"/> as the version does and list it (caller holds the page lock and pages_lock).</summary>
    public void BalloonPageInsert(int page)
    {
        pages.Kind[page] = (byte)PageKind.Balloon;
        identity.Mark(page);
        lists.Add(page, dev.Pages);
    }

    public void BalloonPageDelete(int page) => identity.Delete(page);

    /// <summary>balloon_page_free (v3.8–v3.17 only): drop the extra reference of isolation or dequeue, then the page's own.</summary>
    public void BalloonPageFree(int page)
    {
        using var _ = Enter("balloon_page_free");
        buddy.PutPage(page);
        buddy.PutPage(page);
    }

    /// <summary>Order-0 pages <see cref="Enqueue"/> can still take: the balloon gfp goes down to the min watermark.</summary>
    public long AllocatablePages() => buddy.AllocatablePages(Zone.WmarkMin);

    private CallPath.Frame Enter(string function) => scheduler.Current.Path.Enter(function);

    /// <summary>
    /// The device pointer a balloon function dereferences. Only a page the re-check wrongly took for a balloon
    /// page (a garbage AS_BALLOON_MAP bit read by KASAN's victim) names something else: a wild pointer.
    /// </summary>
    private bool HasDevice(int page)
    {
        if (identity.Device(page) == BalloonDevInfo.Id) return true;
        sanitizer.Report(ReportKind.Kasan, page, $"BUG: unable to handle kernel paging request: pfn {page} names no balloon_dev_info ({pages.DumpPage(page)})");
        return false;
    }

    /// <summary>
    /// alloc_page(BalloonGfp) through the whole allocator: the fast path at the low watermark, the slow path's
    /// retry at the min watermark (__GFP_NOMEMALLOC forbids going below it), one round of direct reclaim, and then
    /// — __GFP_NORETRY — failure: never the OOM killer, never a retry loop. (alloc_pages is reached lazily: the
    /// allocator's compaction reaches back into balloon compaction.)
    /// </summary>
    private int AllocPage() => allocator.Value.AllocPages(0, BalloonGfp);
}
