using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// The kswapd0 thread on the simulated clock, as every version runs it: asleep until woken; woken, it runs its loop as
/// a kernel path of its own (nested in the waker when running to completion) until it naps HZ/10 in
/// <c>kswapd_try_to_sleep</c>, as a timer; at the nap's end it sleeps for good if the version's test says so, else it
/// counts kswapd_high_wmark_hit_quickly and runs again. Going to sleep it gives the zones with a drift mark their normal
/// vmstat threshold, woken their pressure one (<c>set_pgdat_percpu_threshold</c> in <c>kswapd_try_to_sleep</c>, both
/// versions). What the loop does and when it may sleep are the version's.
/// </summary>
internal abstract partial class KswapdThread : ISnapshotState
{
    /// <summary>The task id kswapd0 runs under (apart from the scenario tasks, which count up from 0).</summary>
    public const int TaskId = 1 << 20;

    /// <summary>balance_pgdat rounds one wake-up may run back to back before kswapd naps anyway (the kernel would spin on).</summary>
    protected const int MaxRoundsPerWake = 64;

    protected enum State { Sleeping, Running, Napping }

    protected readonly VmStat Vmstat;
    protected readonly Scheduler Scheduler;
    private readonly Node _node;
    private readonly SimClock _clock;
    private State _thread;
    private long _napGeneration;

    protected KswapdThread(Node node, VmStat vmstat, Scheduler scheduler, SimClock clock)
    {
        _node = node;
        Vmstat = vmstat;
        Scheduler = scheduler;
        _clock = clock;
        clock.Handle(TimerKind.KswapdNap, NapEnded);
    }

    /// <summary>Whether kswapd is running, napping after a balance, or asleep.</summary>
    public string StateName => _thread.ToString().ToLowerInvariant();

    /// <summary>kswapd is running now (kswapd_is_running).</summary>
    public bool Running => _thread == State.Running;

    protected bool Napping => _thread == State.Napping;

    /// <summary>Its state between wake-ups (it never runs across an operation's end): the thread's and the version's.</summary>
    public object Save() => ((int)_thread, _napGeneration, SaveVersionState());

    public void Restore(object saved)
    {
        var (thread, generation, state) = ((int, long, object))saved;
        (_thread, _napGeneration) = ((State)thread, generation);
        RestoreVersionState(state);
    }

    protected abstract object SaveVersionState();

    protected abstract void RestoreVersionState(object saved);

    /// <summary>kswapd()'s loop from a wake-up until it calls <see cref="Nap"/>.</summary>
    [Preemptible]
    protected abstract void Loop();

    /// <summary>kswapd_try_to_sleep after the nap: whether kswapd may now sleep until woken (and what it does before).</summary>
    [Preemptible]
    protected abstract bool SleepAfterNap();

    /// <summary>Wake the thread (wake_up_interruptible(&amp;pgdat-&gt;kswapd_wait)); during its nap the nap is cut short.</summary>
    protected void Run()
    {
        if (_thread == State.Napping) _napGeneration++;
        if (_thread == State.Sleeping) StatThresholds.SetPgdatPercpuThreshold(_node, Scheduler.Cpus, pressure: true);
        _thread = State.Running;
        var task = new SimTask(TaskId, Scheduler.Cpus - 1, "kswapd0", Loop)
        {
            Flags = PF.Kthread | PF.MemAlloc | PF.SwapWrite | PF.Kswapd,
        };
        Scheduler.RunWoken(task);
    }

    /// <summary>schedule_timeout(HZ/10) in kswapd_try_to_sleep.</summary>
    protected void Nap()
    {
        _thread = State.Napping;
        _clock.AddTimer(_clock.NowNs + _clock.Hz / 10 * _clock.TickNs, TimerKind.KswapdNap, ++_napGeneration);
    }

    [Preemptible]
    private void NapEnded(long generation)
    {
        if (_thread != State.Napping || generation != _napGeneration) return;
        if (SleepAfterNap())
        {
            StatThresholds.SetPgdatPercpuThreshold(_node, Scheduler.Cpus, pressure: false);
            _thread = State.Sleeping;
            return;
        }
        Vmstat.Count(VmEvent.KswapdHighWmarkHitQuickly);
        Run();
    }
}
