using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// How v3.16 compaction yields: <c>should_release_lock</c>, <c>compact_checklock_irqsave</c> and
/// <c>compact_should_abort</c>. Async compaction gives up (<c>contended</c>) where sync compaction reschedules.
/// </summary>
internal sealed partial class CompactLocking(SimClock clock, FatalSignal signal)
{
    /// <summary>should_release_lock: need_resched() or another CPU spinning on the lock.</summary>
    public bool ShouldReleaseLock(SimLock lockObj) => clock.NeedResched() || lockObj.IsContended;

    /// <summary>
    /// compact_checklock_irqsave: if the lock should be released, drop it; async → contended, return false;
    /// sync → cond_resched. Then (re)take the lock if not held. Returns whether the lock is held.
    /// </summary>
    [Preemptible]
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

    /// <summary>
    /// congestion_wait(HZ/10) rounds in a row, with no CPU changing the isolated count, after which a sync scanner
    /// waiting in too_many_isolated gives up as if a fatal signal had arrived. The kernel waits without bound; in a
    /// simulation nobody may be left to put pages back, so the wait ends when nothing moves.
    /// </summary>
    public const int CongestionWaitLimit = 100;

    /// <summary>
    /// The migrate scanner's throttle (isolate_migratepages_range in v3.16, _block in v4.8): while
    /// <paramref name="tooManyIsolated"/>, async compaction gives up, sync compaction sleeps in congestion_wait(HZ/10),
    /// giving up after <see cref="CongestionWaitLimit"/> rounds in which <paramref name="isolated"/> did not change, or
    /// at once on a fatal signal (Ctrl-C), as v3.16 and v4.8 do after each wait. False means abort (the scanner returns 0).
    /// The tests get <paramref name="state"/>: static lambdas then allocate nothing at each scanner call.
    /// </summary>
    [Preemptible]
    public bool ThrottleTooManyIsolated<TState>(CompactControl cc, TState state, Func<TState, bool> tooManyIsolated, Func<TState, long> isolated)
    {
        for (long lastIsolated = -1, idle = 0; tooManyIsolated(state);)
        {
            if (cc.Mode == MigrateMode.Async) return false;
            long now = isolated(state);
            if (now != lastIsolated) (lastIsolated, idle) = (now, 0);
            else if (++idle == CongestionWaitLimit) return false;
            clock.CongestionWait();
            if (signal.Pending) return false;
        }
        return true;
    }

    /// <summary>compact_should_abort: on need_resched(), async gives up (contended), sync reschedules.</summary>
    [Preemptible]
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
