using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// How 6.1 compaction takes and drops its locks (docs/kernel/v6.1.md §3.2): <c>compact_lock_irqsave</c> always ends up
/// holding the lock — async compaction only records that it had to wait (<c>cc-&gt;contended</c>) — and
/// <c>compact_unlock_should_abort</c> drops the lock and reschedules; need_resched no longer aborts async compaction,
/// only a fatal signal does.
/// </summary>
internal sealed partial class CompactLocking(SimClock clock, FatalSignal signal)
{
    /// <summary>compact_lock_irqsave: async and not yet contended → trylock, and on failure mark contended; then take the lock.</summary>
    [Preemptible]
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
    /// compact_unlock_should_abort: drop the lock if held; on a fatal signal (Ctrl-C) mark the compaction contended and
    /// abort, else cond_resched. isolate_migratepages_block does the same inline every 32 PFNs (and returns -EINTR).
    /// </summary>
    public bool CompactUnlockShouldAbort(SimLock lockObj, ref bool locked, CompactControl cc)
    {
        if (locked)
        {
            lockObj.Unlock();
            locked = false;
        }
        if (signal.Pending)
        {
            cc.Contended = true;
            return true;
        }
        clock.CondResched();
        return false;
    }
}
