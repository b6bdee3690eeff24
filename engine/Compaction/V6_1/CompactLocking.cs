using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// How 6.1 compaction takes and drops its locks (docs/kernel/v6.1.md §3.2): <c>compact_lock_irqsave</c> always ends up
/// holding the lock — async compaction only records that it had to wait (<c>cc-&gt;contended</c>) — and
/// <c>compact_unlock_should_abort</c> drops the lock and reschedules; need_resched no longer aborts async compaction.
/// </summary>
internal sealed class CompactLocking(SimClock clock)
{
    /// <summary>compact_lock_irqsave: async and not yet contended → trylock, and on failure mark contended; then take the lock.</summary>
    public void CompactLockIrqsave(SimLock lockObj, CompactControl cc)
    {
        if (cc.Mode == MigrateMode.Async && !cc.Contended)
        {
            if (lockObj.TryLock()) return;
            cc.Contended = true;
        }
        lockObj.Lock();
    }

    /// <summary>
    /// compact_unlock_should_abort: drop the lock if held, then cond_resched. It aborts only on a fatal signal, which
    /// no simulated task receives, so the scanners go on.
    /// </summary>
    public void CompactUnlockShouldAbort(SimLock lockObj, ref bool locked)
    {
        if (locked)
        {
            lockObj.Unlock();
            locked = false;
        }
        clock.CondResched();
    }
}
