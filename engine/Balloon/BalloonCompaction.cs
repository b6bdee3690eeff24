using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// mm/balloon_compaction.c as the driver calls it, the same in every version from v3.8 to v4.8: enqueue, dequeue,
/// insert, delete. What a version changed is composed in: how a page is marked (<see cref="IBalloonPageIdentity"/>)
/// and the dequeue walk (<see cref="IDequeueWalk"/>). How compaction isolates and migrates balloon pages is the
/// version's own part: the balloon's own functions up to v4.7 (<see cref="BalloonPageOps"/>), balloon_aops on the
/// generic non-LRU movable page machinery in v4.8 (<see cref="V4_8.BalloonAops"/>).
/// <para>
/// balloon_inflate / balloon_deflate / balloon_migrate are v3.18 vm events; v3.8–v3.17 had no balloon
/// counters at all. They are counted in every design so that designs can be compared.
/// </para>
/// </summary>
internal sealed partial class BalloonCompaction(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock,
    IBuddyAllocator buddy, Lazy<IPageAllocator> allocator, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler,
    IBalloonPageIdentity identity, IDequeueWalk dequeueWalk)
    : IBalloonCompaction
{
    /// <summary>
    /// balloon_mapping_gfp_mask() | __GFP_NOMEMALLOC | __GFP_NORETRY, with CONFIG_BALLOON_COMPACTION, through the whole
    /// allocator: the fast path at the low watermark, the slow path's retry at the min watermark (__GFP_NOMEMALLOC
    /// forbids going below it), one round of direct reclaim, and then — __GFP_NORETRY — failure: never the OOM killer,
    /// never a retry loop. (alloc_pages is reached lazily: the allocator's compaction reaches back into balloon compaction.)
    /// </summary>
    public const Gfp BalloonGfp = Gfp.HighUserMovable | Gfp.NoMemAlloc | Gfp.NoRetry;

    /// <summary>6.1 balloon_page_alloc: the same with __GFP_NOWARN (no warn_alloc report when it fails).</summary>
    public const Gfp BalloonAllocGfp = BalloonGfp | Gfp.NoWarn;

    /// <summary>
    /// balloon_page_enqueue (up to v5.1): allocate a page and put it at the head of the balloon list. Returns its PFN,
    /// or -1 when the allocation fails.
    /// </summary>
    // Never inlined: fill_balloon's loop inlined the allocator's whole fast path from here and ran out of inlining budget
    // for the small helpers below it; on its own this reaches the optimised tier with them inlined.
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Enqueue()
    {
        using var _ = Enter("balloon_page_enqueue");
        int page = allocator.Value.AllocPages(0, BalloonGfp);
        if (page < 0) return -1;
        EnqueueOne(page);
        return page;
    }

    /// <summary>balloon_page_alloc (5.2+, as in 6.1): alloc_page(<see cref="BalloonAllocGfp"/>); the PFN, or -1.</summary>
    [Preemptible]
    public int Alloc()
    {
        using var _ = Enter("balloon_page_alloc");
        return allocator.Value.AllocPages(0, BalloonAllocGfp);
    }

    /// <summary>
    /// balloon_page_enqueue (5.2+, as in 6.1): put a page from <see cref="Alloc"/> at the head of the balloon list. Under
    /// pages_lock, balloon_page_enqueue_one locks the page, inserts it, unlocks it and counts the event, so the page is
    /// unlocked again before pages_lock is released (the older <see cref="Enqueue()"/> released pages_lock first).
    /// </summary>
    [Preemptible]
    public void Enqueue(int page)
    {
        using var _ = Enter("balloon_page_enqueue");
        dev.PagesLock.Lock();
        TrylockNewPage(page);
        BalloonPageInsert(page);
        pageLock.Unlock(page);
        vmstat.Count(VmEvent.BalloonInflate);
        dev.PagesLock.Unlock();
    }

    /// <summary>
    /// balloon_page_enqueue's work before 5.2 (v3.16 to v4.8): the new page locked, then under pages_lock it becomes a
    /// balloon page; pages_lock is released before the page lock.
    /// </summary>
    [Preemptible]
    private void EnqueueOne(int page)
    {
        TrylockNewPage(page);
        dev.PagesLock.Lock();
        BalloonPageInsert(page);
        vmstat.Count(VmEvent.BalloonInflate);
        dev.PagesLock.Unlock();
        pageLock.Unlock(page);
    }

    /// <summary>BUG_ON(!trylock_page(page)): nobody else may hold a page the balloon has just allocated.</summary>
    [Preemptible]
    private void TrylockNewPage(int page)
    {
        if (!pageLock.TryLock(page))
            sanitizer.Report(ReportKind.VmBug, page, "kernel BUG in balloon_page_enqueue: BUG_ON(!trylock_page(page)) on a new page");
    }

    /// <summary>
    /// balloon_page_dequeue: the version's walk takes one page off the balloon for the driver to give back; -1
    /// if none could be taken (all locked or isolated right now). An empty list with nothing isolated is the
    /// kernel's <c>BUG()</c> "balloon pages lost".
    /// </summary>
    [Preemptible]
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

    /// <summary>balloon_page_insert: mark <paramref name="page"/> as the version does and list it (caller holds the page lock and pages_lock).</summary>
    public void BalloonPageInsert(int page)
    {
        pages.Kind[page] = (byte)PageKind.Balloon;
        identity.Mark(page);
        lists.Add(page, dev.Pages);
    }

    public void BalloonPageDelete(int page) => identity.Delete(page);

    /// <summary>Order-0 pages <see cref="Enqueue()"/> can still take: the balloon gfp goes down to the min watermark.</summary>
    public long AllocatablePages() => buddy.AllocatablePages(Zone.WmarkMin);

    private CallPath.Frame Enter(string function) => scheduler.Current.Path.Enter(function);
}
