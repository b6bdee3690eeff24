using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// How v3.16 compaction yields: <c>should_release_lock</c>, <c>compact_checklock_irqsave</c> and
/// <c>compact_should_abort</c>. Async compaction gives up (<c>contended</c>) where sync compaction reschedules.
/// </summary>
internal sealed class CompactLocking(SimClock clock)
{
    /// <summary>should_release_lock: need_resched() or another CPU spinning on the lock.</summary>
    public bool ShouldReleaseLock(SimLock lockObj) => clock.NeedResched() || lockObj.IsContended;

    /// <summary>
    /// compact_checklock_irqsave: if the lock should be released, drop it; async → contended, return false;
    /// sync → cond_resched. Then (re)take the lock if not held. Returns whether the lock is held.
    /// </summary>
    public bool CompactChecklockIrqsave(SimLock lockObj, bool locked, CompactControl cc)
    {
        if (ShouldReleaseLock(lockObj))
        {
            if (locked)
            {
                lockObj.Unlock();
                locked = false;
            }
            if (cc.Mode == MigrateMode.Async)
            {
                cc.Contended = true;
                return false;
            }
            clock.CondResched();
        }
        if (!locked) lockObj.Lock();
        return true;
    }

    /// <summary>compact_should_abort: on need_resched(), async gives up (contended), sync reschedules.</summary>
    public bool CompactShouldAbort(CompactControl cc)
    {
        if (!clock.NeedResched()) return false;
        if (cc.Mode == MigrateMode.Async)
        {
            cc.Contended = true;
            return true;
        }
        clock.CondResched();
        return false;
    }
}
