using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Migrate;

/// <summary>
/// How <c>__unmap_and_move</c> gets hold of the page it migrates, the same in v3.16, v4.8 and 6.1 mm/migrate.c:
/// <c>trylock_page</c>, or <c>lock_page</c> when forced (the fourth pass on), not async and not under PF_MEMALLOC
/// (direct compaction and kswapd never sleep on it); a page under writeback is waited for only in MIGRATE_SYNC when
/// forced, else it is -EBUSY (not MIGRATE_SYNC) or -EAGAIN.
/// </summary>
internal sealed partial class MigrationPageLock(PageTable pages, PageLock pageLock, Scheduler scheduler)
{
    /// <summary>0 with the page locked and not under writeback; else the code __unmap_and_move returns, the page not held.</summary>
    [Preemptible]
    public int Lock(int page, bool force, MigrateMode mode)
    {
        if (!pageLock.TryLock(page))
        {
            if (!force || mode == MigrateMode.Async) return MigrateRc.EAgain;
            if ((scheduler.Current.Flags & PF.MemAlloc) != 0) return MigrateRc.EAgain;
            pageLock.Lock(page);
        }
        if (!pages.Test(page, PG.Writeback)) return MigrateRc.Success;
        if (mode == MigrateMode.Sync && force)
        {
            WaitOnPageWriteback(page);
            return MigrateRc.Success;
        }
        pageLock.Unlock(page);
        return mode != MigrateMode.Sync ? MigrateRc.EBusy : MigrateRc.EAgain;
    }

    /// <summary>
    /// wait_on_page_writeback, in io_schedule (6.1 <c>folio_wait_writeback</c>: <c>folio_wait_bit_common</c>; v3.16
    /// <c>bit_wait_io</c>). Its own method: a lambda capturing <paramref name="page"/> in <see cref="Lock"/> would be
    /// allocated on every call.
    /// </summary>
    [Preemptible]
    private void WaitOnPageWriteback(int page) =>
        scheduler.WaitUntil(() => !pages.Test(page, PG.Writeback), pageLock, "wait_on_page_writeback", ioSchedule: true);
}
