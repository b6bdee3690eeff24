using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// One of <c>pgdat-&gt;reclaim_wait[]</c> (6.1): the reclaimers asleep on it in reclaim_throttle, and the wake_up calls made
/// while some slept, counted. A sleeper's schedule_timeout ends early once the count moved: what can wake it is the work
/// the timers run while it sleeps (an explored race lets a sleep's whole timeout pass).
/// </summary>
internal sealed partial class ReclaimWaitQueue
{
    /// <summary>Reclaimers asleep on the queue (waitqueue_active: some).</summary>
    public int Waiters { get; private set; }

    /// <summary>wake_up calls made while the queue had sleepers.</summary>
    public long Wakeups { get; private set; }

    /// <summary>prepare_to_wait, schedule_timeout(<paramref name="jiffies"/>) — woken by <see cref="WakeUp"/> —, finish_wait.</summary>
    [Preemptible]
    public void Sleep(SimClock clock, long jiffies, string where)
    {
        Waiters++;
        long wakeups = Wakeups;
        clock.ScheduleTimeout(jiffies, where, () => Wakeups != wakeups);
        Waiters--;
    }

    /// <summary>wake_up: every sleeper (each waits non-exclusively); nothing if none sleeps.</summary>
    public void WakeUp()
    {
        if (Waiters > 0) Wakeups++;
    }

    public (int Waiters, long Wakeups) Save() => (Waiters, Wakeups);

    public void Restore((int Waiters, long Wakeups) saved) => (Waiters, Wakeups) = saved;
}
