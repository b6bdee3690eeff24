using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// mm/balloon_compaction.c: the part every design shares. The function bodies are the same in v3.16 and
/// v3.18 (enqueue, the dequeue walk, isolate, putback, migrate); what a design changes is how a page is
/// marked as a balloon page and the few tests and references that depend on it, which the design classes
/// supply: <see cref="LegacyBalloon"/> (v3.8–v3.17), <see cref="RedesignBalloon"/> (d6d86c0, v3.18),
/// <see cref="FixedBalloon"/> (v4.5). Also the driver-side differences that go with each kernel
/// (<see cref="ReleasePage"/>, <see cref="MigratepageFinish"/>, ...), so one object is the whole design.
/// <para>
/// balloon_inflate / balloon_deflate / balloon_migrate are v3.18 vm events; v3.8–v3.17 had no balloon
/// counters at all. They are counted in every design so that designs can be compared.
/// </para>
/// </summary>
internal abstract class BalloonCompaction(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock,
    BuddyAllocator buddy, Node node, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler) : IBalloonCompaction
{
    /// <summary>balloon_mapping_gfp_mask() | __GFP_NOMEMALLOC | __GFP_NORETRY, with CONFIG_BALLOON_COMPACTION.</summary>
    public const Gfp BalloonGfp = Gfp.HighUserMovable | Gfp.NoMemAlloc | Gfp.NoRetry;

    protected BalloonDevInfo Dev { get; } = dev;
    protected PageTable Pages { get; } = pages;
    protected PageLists Lists { get; } = lists;
    protected PageLock PageLock { get; } = pageLock;
    protected BuddyAllocator Buddy { get; } = buddy;
    protected Node Node { get; } = node;
    protected Sanitizer Sanitizer { get; } = sanitizer;
    protected Scheduler Scheduler { get; } = scheduler;

    // ---- predicates (include/linux/balloon_compaction.h) ----

    /// <summary><c>balloon_page_movable(page)</c>: the compaction scanner's lockless test.</summary>
    public abstract bool BalloonPageMovable(int page);

    /// <inheritdoc />
    public abstract bool IsMovableBalloonPage(int pfn);

    /// <inheritdoc />
    public virtual bool SaveIsBalloonPage(int page) => false;

    /// <inheritdoc />
    public abstract bool NewPageIsBalloon(int newpage, bool saved);

    /// <inheritdoc />
    public abstract bool IsolatedBalloonPage(int pfn);

    // ---- compaction and migration hooks (IBalloonCompaction) ----

    /// <inheritdoc />
    public abstract bool IsolateFromScanner(int pfn, bool lruLocked);

    /// <inheritdoc />
    public abstract bool MigrationBranch(int page);

    /// <inheritdoc />
    public abstract int MappingMigratePage(int mapping, int newpage, int page, MigrateMode mode);

    /// <inheritdoc />
    public virtual bool HandleBalloonSuccess(int rc, int page) => false;

    // ---- library operations ----

    /// <summary>
    /// balloon_page_enqueue: allocate a page and put it at the head of the balloon list. Returns its PFN, or
    /// -1 when the allocation fails.
    /// </summary>
    public int Enqueue()
    {
        using var _ = Enter("balloon_page_enqueue");
        int page = AllocPage();
        if (page < 0) return -1;
        if (!PageLock.TryLock(page))
            Sanitizer.Report(ReportKind.VmBug, page, "kernel BUG in balloon_page_enqueue: BUG_ON(!trylock_page(page)) on a new page");
        Dev.PagesLock.Lock();
        BalloonPageInsert(page);
        vmstat.Count(VmEvent.BalloonInflate);
        Dev.PagesLock.Unlock();
        PageLock.Unlock(page);
        return page;
    }

    /// <summary>
    /// balloon_page_dequeue: take one page off the balloon for the driver to give back; -1 if none could be
    /// taken (all locked or isolated right now). An empty list with nothing isolated is the kernel's
    /// <c>BUG()</c> "balloon pages lost".
    /// </summary>
    public int Dequeue()
    {
        using var _ = Enter("balloon_page_dequeue");
        int page = DequeueWalk();
        if (page >= 0) return page;
        Dev.PagesLock.Lock();
        if (Lists.Empty(Dev.Pages) && Dev.IsolatedPages == 0)
            Sanitizer.Report(ReportKind.VmBug, -1,
                "kernel BUG at mm/balloon_compaction.c: balloon_page_dequeue: the balloon list is empty and no page is isolated (balloon pages lost)");
        Dev.PagesLock.Unlock();
        return -1;
    }

    /// <summary>
    /// balloon_page_isolate (v3.16 = v3.18 shape): speculative reference, trylock, the design's re-check
    /// under the page lock, then off the balloon list with <c>isolated_pages++</c>. True keeps the extra
    /// reference (the caller links the page into its migrate list).
    /// </summary>
    public bool BalloonPageIsolate(int page)
    {
        using var _ = Enter("balloon_page_isolate");
        if (!GetPageUnlessZero(page)) return false;
        if (PageLock.TryLock(page))
        {
            if (IsolationRecheck(page) && HasDevice(page))
            {
                // __isolate_balloon_page
                Dev.PagesLock.Lock();
                LeaveList(page);
                Lists.Del(page);
                Dev.IsolatedPages++;
                Dev.PagesLock.Unlock();
                PageLock.Unlock(page);
                return true;
            }
            PageLock.Unlock(page);
        }
        Buddy.PutPage(page);
        return false;
    }

    /// <summary>balloon_page_putback: back at the head of the balloon list, isolation reference dropped.</summary>
    public void Putback(int pfn)
    {
        using var _ = Enter("balloon_page_putback");
        PageLock.Lock(pfn);
        if (IsMovableBalloonPage(pfn) && HasDevice(pfn))
        {
            // __putback_balloon_page
            Dev.PagesLock.Lock();
            ReturnToList(pfn);
            Lists.Add(pfn, Dev.Pages);
            Dev.IsolatedPages--;
            Dev.PagesLock.Unlock();
            Buddy.PutPage(pfn);
        }
        else
        {
            Sanitizer.Report(ReportKind.VmBug, pfn, $"WARNING in balloon_page_putback: not movable balloon page (pfn {pfn}, {Pages.DumpPage(pfn)})");
        }
        PageLock.Unlock(pfn);
    }

    /// <summary>
    /// balloon_page_migrate: lock <paramref name="newpage"/>, re-check that <paramref name="page"/> (locked by
    /// migration) is a balloon page, and let the driver move it. -EAGAIN when it cannot.
    /// </summary>
    public int BalloonPageMigrate(int newpage, int page, MigrateMode mode)
    {
        using var _ = Enter("balloon_page_migrate");
        if (!PageLock.TryLock(newpage))
        {
            Sanitizer.Report(ReportKind.VmBug, newpage, "kernel BUG in balloon_page_migrate: BUG_ON(!trylock_page(newpage))");
            return MigrateRc.EAgain;
        }
        int rc = MigrateRc.EAgain;
        if (!IsMovableBalloonPage(page))
            Sanitizer.Report(ReportKind.VmBug, page, $"WARNING in balloon_page_migrate: not movable balloon page (pfn {page}, {Pages.DumpPage(page)})");
        else
            rc = CallMigratepage(newpage, page, mode);
        PageLock.Unlock(newpage);
        return rc;
    }

    /// <summary>balloon_page_insert: mark <paramref name="page"/> as the design does and list it (caller holds the page lock and pages_lock).</summary>
    public void BalloonPageInsert(int page)
    {
        Pages.Kind[page] = (byte)PageKind.Balloon;
        MarkBalloon(page);
        Lists.Add(page, Dev.Pages);
    }

    /// <summary>balloon_page_delete: the page stops being a balloon page (caller holds the page lock; pages_lock where the list changes).</summary>
    public abstract void BalloonPageDelete(int page);

    // ---- what the virtio driver does differently per kernel ----

    /// <summary>The per-page release in the driver's release_pages_by_pfn (v3.16 balloon_page_free, v3.18 put_page).</summary>
    public abstract void ReleasePage(int page);

    /// <summary>
    /// True from v4.5 ("virtio_balloon: fix race by fill and leak", f68b992): leak_balloon releases the
    /// dequeued pages before dropping balloon_lock, so no virtballoon_migratepage can rewrite vb-&gt;pfns first.
    /// </summary>
    public virtual bool ReleaseUnderBalloonLock => false;

    /// <summary>virtballoon_migratepage before inserting newpage: v3.18 takes the balloon's reference on it.</summary>
    public virtual void MigratepageGetNewpage(int newpage) { }

    /// <summary>virtballoon_migratepage's end: v3.16 returns MIGRATEPAGE_BALLOON_SUCCESS; v3.18 drops the old page's balloon reference and returns MIGRATEPAGE_SUCCESS.</summary>
    public abstract int MigratepageFinish(int page);

    // ---- what the balloon sanitizer asks (not kernel code: the omniscient view of a page) ----

    /// <summary>The page carries this design's balloon mark (v3.16 the balloon mapping, v3.18 PageBalloon).</summary>
    public abstract bool HasBalloonIdentity(int pfn);

    /// <summary>A page on the balloon list that compaction could isolate.</summary>
    public virtual bool ListedPageMovable(int pfn) => HasBalloonIdentity(pfn);

    /// <summary>Order-0 pages <see cref="Enqueue"/> can still take: the balloon gfp goes down to the min watermark.</summary>
    public long AllocatablePages() => Buddy.AllocatablePages(Zone.WmarkMin);

    // ---- design hooks ----

    /// <summary>The re-check under the page lock in balloon_page_isolate.</summary>
    protected abstract bool IsolationRecheck(int page);

    /// <summary>The insert half of balloon_page_insert that marks the page (the list add is common).</summary>
    protected abstract void MarkBalloon(int page);

    /// <summary>Isolation takes the page off the list: v3.18 clears PG_private with it.</summary>
    protected virtual void LeaveList(int page) { }

    /// <summary>Putback lists the page again: v3.18 sets PG_private with it.</summary>
    protected virtual void ReturnToList(int page) { }

    /// <summary>balloon_page_dequeue's check after winning the trylock: v3.18 skips a page without PG_private ("raced with isolation").</summary>
    protected virtual bool RacedWithIsolation(int page) => false;

    /// <summary>balloon_page_dequeue's reference before deleting: v3.16 get_page (dropped again by balloon_page_free).</summary>
    protected virtual void DequeueGetPage(int page) { }

    /// <summary>How balloon_page_migrate reaches the driver: v3.16 <c>page-&gt;mapping-&gt;a_ops</c>, v3.18 <c>b_dev_info-&gt;migratepage</c>.</summary>
    protected abstract int CallMigratepage(int newpage, int page, MigrateMode mode);

    /// <summary>The balloon device this page names (v3.16 <c>mapping-&gt;private_data</c>, v3.18 <c>page-&gt;private</c>); 0 = NULL.</summary>
    protected abstract int DeviceId(int page);

    /// <summary>
    /// list_for_each_entry_safe over the balloon list. Up to v4.4 this runs without pages_lock: the next
    /// entry is read before the current one is tried, so it can be isolated in between, and the walk then
    /// follows a poisoned or foreign <c>lru</c> link (defect 4's residual race).
    /// </summary>
    protected virtual int DequeueWalk()
    {
        int head = Dev.Pages;
        int page = Lists.Next(head), from = head;
        for (int steps = 0; page != head; steps++)
        {
            if (!OnWalkablePage(page, from, steps)) return -1;
            int next = Lists.Next(page);
            Scheduler.Preempt("balloon_page_dequeue: next entry read");
            if (TryDequeue(page)) return page;
            (from, page) = (page, next);
        }
        return -1;
    }

    /// <summary>Taking pages_lock around balloon_page_delete in dequeue; v4.5 already holds it for the whole walk.</summary>
    protected virtual void LockPagesForDelete() => Dev.PagesLock.Lock();

    protected virtual void UnlockPagesForDelete() => Dev.PagesLock.Unlock();

    // ---- helpers ----

    protected CallPath.Frame Enter(string function) => Scheduler.Current.Path.Enter(function);

    /// <summary>get_page: the caller already holds a reference.</summary>
    protected void GetPage(int page)
    {
        if (Pages.Count[page] <= 0)
            Sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(atomic_read(&page->_count) <= 0): get_page on pfn {page} with _count {Pages.Count[page]}");
        Pages.Count[page]++;
    }


    /// <summary>get_page_unless_zero: a speculative reference, refused on a free page.</summary>
    private bool GetPageUnlessZero(int page)
    {
        if (Pages.Count[page] == 0) return false;
        Pages.Count[page]++;
        return true;
    }

    /// <summary>
    /// The device pointer a balloon function dereferences. Only a page the re-check wrongly took for a balloon
    /// page (a garbage AS_BALLOON_MAP bit read by KASAN's victim) names something else: a wild pointer.
    /// </summary>
    private bool HasDevice(int page)
    {
        if (DeviceId(page) == BalloonDevInfo.Id) return true;
        Sanitizer.Report(ReportKind.Kasan, page, $"BUG: unable to handle kernel paging request: pfn {page} names no balloon_dev_info ({Pages.DumpPage(page)})");
        return false;
    }

    /// <summary>
    /// alloc_page(BalloonGfp): get_page_from_freelist at the low watermark, then the slow path's retry at
    /// ALLOC_WMARK_MIN; __GFP_NOMEMALLOC forbids ALLOC_NO_WATERMARKS, order 0 skips direct compaction,
    /// __GFP_NORETRY gives up after that (direct reclaim is not modelled).
    /// </summary>
    private int AllocPage()
    {
        int page = Buddy.GetPageFromFreelist(0, BalloonGfp, BuddyAllocator.AllocWmarkLow);
        return page >= 0 ? page : Buddy.GetPageFromFreelist(0, BalloonGfp, BuddyAllocator.AllocWmarkMin);
    }

    /// <summary>
    /// The dequeue cursor must be a page: a poisoned link is the general protection fault of Minchan Kim's
    /// 2015 report, a list head other than the balloon's means the walk left the balloon list.
    /// <paramref name="from"/> is the entry whose <c>lru.next</c> led here.
    /// </summary>
    private bool OnWalkablePage(int node, int from, int steps)
    {
        string link = Lists.IsHead(from) ? "the balloon list head's" : $"pfn {from}'s";
        string? fault = PageLists.IsPoison(node)
            ? $"general protection fault in balloon_page_dequeue: following {link} list_del'ed lru.next ({(node == PageLists.Poison1 ? "dead000000100100, LIST_POISON1" : "dead000000200200, LIST_POISON2")})"
            : Lists.IsHead(node) ? $"balloon_page_dequeue walked off the balloon list: {link} lru.next is another list_head, taken as a struct page"
            : steps > Pages.NrPages ? "balloon_page_dequeue: the balloon list walk does not come back to its head"
            : null;
        if (fault is null) return true;
        Sanitizer.Report(ReportKind.ListCorruption, Lists.IsHead(from) ? -1 : from, fault);
        return false;
    }

    /// <summary>The body of the dequeue walk for one page: trylock, the design's checks, balloon_page_delete.</summary>
    private bool TryDequeue(int page)
    {
        if (!PageLock.TryLock(page)) return false;
        if (RacedWithIsolation(page))
        {
            PageLock.Unlock(page);
            return false;
        }
        LockPagesForDelete();
        DequeueGetPage(page);
        BalloonPageDelete(page);
        vmstat.Count(VmEvent.BalloonDeflate);
        UnlockPagesForDelete();
        PageLock.Unlock(page);
        return true;
    }
}
