using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Time;

/// <summary>
/// Simulated time, which every wait in the kernel code goes through (as Polly injects a <c>TimeProvider</c>):
/// <c>msleep</c>, <c>congestion_wait</c>, and the scheduler tick behind <c>need_resched()</c>. For now time
/// advances in scheduler steps: a sleep or a congestion wait is one preemption point, and a task's timeslice is
/// <see cref="Timeslice"/> preemption points since it was put on its CPU.
/// </summary>
internal sealed class SimClock(Scheduler scheduler)
{
    /// <summary>
    /// The need_resched() model: a task that has passed <see cref="Timeslice"/> preemption points since it was
    /// last put on its CPU has TIF_NEED_RESCHED set, as if the timer tick had expired its slice. 0 (the
    /// default) = never, so run-to-completion experiments are unaffected; tests and scenarios set it to make
    /// compaction's need_resched() branches (async abort, lock drops, cond_resched) reachable.
    /// </summary>
    public long Timeslice { get; set; }

    /// <summary>need_resched(): the running task's timeslice is used up.</summary>
    public bool NeedResched() => Timeslice > 0 && scheduler.Step - scheduler.Current.SliceStart >= Timeslice;

    /// <summary>cond_resched(): if need_resched(), give up the CPU (a preemption point) and start a new slice.</summary>
    public void CondResched()
    {
        if (!NeedResched()) return;
        scheduler.Current.SliceStart = scheduler.Step;
        scheduler.Preempt("cond_resched");
    }

    /// <summary>msleep(<paramref name="ms"/>) at <paramref name="where"/>: the task sleeps; other CPUs run.</summary>
    public void Msleep(int ms, string where) => scheduler.Preempt($"{where}: msleep({ms})");

    /// <summary>congestion_wait(BLK_RW_ASYNC, HZ/10): sleep until a backing device is no longer congested or the timeout passes.</summary>
    public void CongestionWait() => scheduler.Preempt("congestion_wait");
}
