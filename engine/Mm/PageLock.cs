using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Mm;

/// <summary>The PG_locked page lock: <c>trylock_page</c>, <c>lock_page</c>, <c>unlock_page</c> (v3.16 pagemap.h).</summary>
internal sealed partial class PageLock(PageTable pages, Scheduler scheduler)
{
    /// <summary>trylock_page: test-and-set PG_locked; true if it was clear.</summary>
    [Preemptible]
    public bool TryLock(int pfn)
    {
        scheduler.Preempt("trylock_page");
        if (pages.PageLocked(pfn)) return false;
        pages.Set(pfn, PG.Locked);
        return true;
    }

    /// <summary>lock_page: sleep until PG_locked is clear, then take it.</summary>
    [Preemptible]
    public void Lock(int pfn)
    {
        scheduler.Preempt("lock_page");
        if (pages.PageLocked(pfn)) WaitOnPageLocked(pfn, $"lock_page(pfn {pfn})");
        pages.Set(pfn, PG.Locked);
    }

    /// <summary>
    /// The sleep until PG_locked is clear, at <paramref name="point"/>: __lock_page's, and truncate's before it takes the
    /// lock; in io_schedule (6.1 <c>folio_wait_bit_common</c>; v3.16 <c>bit_wait_io</c>). Its own method: a lambda
    /// capturing <paramref name="pfn"/> in <see cref="Lock"/> would be allocated on every call.
    /// </summary>
    [Preemptible]
    public void WaitOnPageLocked(int pfn, string point) => scheduler.WaitUntil(() => !pages.PageLocked(pfn), this, point, ioSchedule: true);

    [Preemptible]
    public void Unlock(int pfn)
    {
        pages.Clear(pfn, PG.Locked);
        scheduler.Preempt("unlock_page");
    }
}
