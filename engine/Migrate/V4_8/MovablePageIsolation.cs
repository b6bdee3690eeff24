using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Migrate.V4_8;

/// <summary>
/// Isolating and putting back non-LRU movable pages, v4.8 mm/migrate.c (WindRiver-Labs/kernel-4.8.x, 4.8.18):
/// <c>isolate_movable_page</c> and <c>putback_movable_page</c>. The core takes the reference, the page lock and the
/// re-check; the owner's <c>a_ops-&gt;isolate_page</c> only takes the page off its own lists; PG_isolated is the core's.
/// This is how the v4.8 migrate scanner isolates a balloon page (the balloon's a_ops are balloon_aops): nothing here
/// depends on lru_lock, which the scanner drops before calling.
/// </summary>
[KernelPart("scanner isolation", PartVersion.V4_8)]
internal sealed partial class MovablePageIsolation(PageTable pages, PageLock pageLock, PageRefs refs, Lru lru, MovablePage movable,
    Sanitizer sanitizer, Scheduler scheduler) : IMovablePageIsolation
{
    /// <summary>-EBUSY, what 6.1's isolate_movable_page returns on failure (v4.8's returned false).</summary>
    public const int EBusy = -16;

    bool IMovablePageIsolation.PageMovable(int pfn) => pages.PageMovableUnlocked(pfn);

    bool IMovablePageIsolation.PageIsolated(int pfn) => pages.PageIsolated(pfn);

    /// <summary>isolate_movable_page as 6.1 returns it: 0 or -EBUSY (same steps as v4.8's).</summary>
    [Preemptible]
    int IMovablePageIsolation.IsolateMovablePage(int pfn, IsolateMode mode) => IsolateMovablePage(pfn, mode) ? 0 : EBusy;

    /// <summary>
    /// isolate_movable_page (v4.8): a speculative reference (a page being freed is left alone); <c>__PageMovable</c>
    /// before touching the page lock (the owner of a fresh page may rely on nobody locking it); trylock; under the
    /// lock <c>PageMovable</c> and not yet PG_isolated; the owner's <c>isolate_page</c>; then PG_isolated, and the
    /// reference is kept. Any failure drops the reference.
    /// </summary>
    [Preemptible]
    public bool IsolateMovablePage(int page, IsolateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_movable_page");
        if (!refs.GetPageUnlessZero(page)) return false;
        if (pages.PageMovableUnlocked(page) && pageLock.TryLock(page))
        {
            if (movable.PageMovable(page) && !pages.PageIsolated(page) && movable.Ops(page)!.IsolatePage(page, mode))
            {
                if (pages.PageIsolated(page))
                    sanitizer.Report(ReportKind.VmBug, page, $"WARNING in isolate_movable_page: WARN_ON_ONCE(PageIsolated(page)): the driver set PG_isolated ({pages.DumpPage(page)})");
                pages.Set(page, PG.Isolated);
                pageLock.Unlock(page);
                return true;
            }
            pageLock.Unlock(page);
        }
        lru.PutPage(page);
        return false;
    }

    /// <summary>
    /// putback_movable_page (v4.8): the page is locked, movable and isolated (VM_BUG_ON_PAGE otherwise); the owner's
    /// <c>putback_page</c>, then PG_isolated cleared. The isolation reference is the caller's to drop.
    /// </summary>
    [Preemptible]
    public void PutbackMovablePage(int page)
    {
        using var _ = scheduler.Current.Path.Enter("putback_movable_page");
        if (!pages.PageLocked(page) || !pages.PageIsolated(page))
            sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE in putback_movable_page: page not locked or not isolated ({pages.DumpPage(page)})");
        movable.Ops(page)!.PutbackPage(page);
        pages.Clear(page, PG.Isolated);
    }

    /// <summary>
    /// What putback_movable_pages and unmap_and_move (v4.8) do with a non-LRU page they give up on: lock it; if its
    /// owner still has it (<c>PageMovable</c>) <c>putback_movable_page</c>, else (released meanwhile) just clear
    /// PG_isolated; unlock; drop the isolation reference, which frees a released page.
    /// </summary>
    [Preemptible]
    public void PutbackOrRelease(int page)
    {
        pageLock.Lock(page);
        if (movable.PageMovable(page)) PutbackMovablePage(page);
        else pages.Clear(page, PG.Isolated);
        pageLock.Unlock(page);
        lru.PutPage(page);
    }
}
