using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Time;

/// <summary>
/// Simulated time, which every wait in the kernel code goes through (as Polly injects a <c>TimeProvider</c>):
/// jiffies at <see cref="Hz"/>, <c>msleep</c>, <c>congestion_wait</c>, <c>schedule_timeout</c>, timers, and the
/// scheduler tick behind <c>need_resched()</c>.
/// <para>
/// Time is the scheduler's <see cref="Scheduler.NowNs"/>: kernel work advances it by
/// <see cref="Scheduler.StepNs"/> per preemption point. A sleep in a run-to-completion path runs the timers that fall
/// due meanwhile (their kernel paths nested in the sleeper, as other CPUs would run them) and then moves time to the
/// wake-up; in a switching run (exploration) a sleep is a preemption point that moves time, so the explored
/// interleavings stay those of the scenario.
/// </para>
/// </summary>
internal sealed partial class SimClock : ISnapshotState
{
    /// <summary>CONFIG_HZ choices on x86 (kernel/Kconfig.hz): HZ_100, HZ_250 (the default), HZ_300, HZ_1000.</summary>
    public static readonly int[] HzChoices = [100, 250, 300, 1000];

    private readonly Scheduler _scheduler;
    [NotState("empty between operations, when snapshots are taken")]
    private readonly Stack<long> _deadlines = new();
    private readonly PriorityQueue<Timer, (long DueNs, long Seq)> _timers = new();
    [NotState("wiring: each part registers its handlers when it is built")]
    private readonly Action<long>?[] _handlers = new Action<long>?[Enum.GetValues<TimerKind>().Length];
    private long _timerSeq;

    public SimClock(Scheduler scheduler, SimulationOptions options)
    {
        _scheduler = scheduler;
        Hz = options.Hz;
        TickNs = 1_000_000_000L / Hz;
        TimesliceNs = (long)Math.Round(options.TimesliceMs * 1_000_000);
        _ioLatencyNs = options.IoLatencyNs;
        scheduler.LetTimePass = FireNextTimer;
    }

    private readonly long _ioLatencyNs;

    /// <summary>Timer interrupts per second (CONFIG_HZ).</summary>
    public int Hz { get; }

    /// <summary>One jiffy in nanoseconds (HZ=300: 3,333,333 ns).</summary>
    public long TickNs { get; }

    public long NowNs => _scheduler.NowNs;

    /// <summary><c>jiffies</c>: ticks since boot.</summary>
    public long Jiffies => NowNs / TickNs;

    /// <summary>
    /// The CPU time after which the tick sets TIF_NEED_RESCHED on a running kernel path (as CFS's
    /// <c>check_preempt_tick</c> does once a task has run its slice and another task waits for the CPU). 0 = never.
    /// </summary>
    public long TimesliceNs { get; set; }

    /// <summary>
    /// need_resched(): the running path has used its slice, as seen at the first timer tick after it ran out
    /// (ticks fall on multiples of <see cref="TickNs"/>).
    /// </summary>
    public bool NeedResched()
    {
        if (TimesliceNs <= 0) return false;
        long start = _scheduler.Current.SliceStartNs;
        if (start != _reschedSliceStartNs || TimesliceNs != _reschedTimesliceNs)
        {
            long expires = start + TimesliceNs;
            (_reschedSliceStartNs, _reschedTimesliceNs, _reschedTickNs) = (start, TimesliceNs, (expires + TickNs - 1) / TickNs * TickNs);
        }
        return NowNs >= _reschedTickNs;
    }

    /// <summary>
    /// The tick <see cref="NeedResched"/> waits for, for the slice start and timeslice it was worked out from: it is
    /// asked for nearly every page compaction, migration and reclaim look at, and a slice starts far less often.
    /// </summary>
    [NotState("a cache of a function of the running task's slice start and TimesliceNs")]
    private long _reschedSliceStartNs = long.MinValue, _reschedTimesliceNs, _reschedTickNs;

    /// <summary>cond_resched(): if need_resched(), give up the CPU (a preemption point) and start a new slice.</summary>
    [Preemptible]
    public void CondResched()
    {
        if (!NeedResched()) return;
        _scheduler.Current.SliceStartNs = NowNs;
        _scheduler.Preempt("cond_resched");
    }

    /// <summary>msecs_to_jiffies: rounded up to whole ticks.</summary>
    public long MsecsToJiffies(long ms) => (ms * Hz + 999) / 1000;

    /// <summary>msleep(<paramref name="ms"/>) at <paramref name="where"/>: uninterruptible, <see cref="MsleepNs"/>.</summary>
    [Preemptible]
    public void Msleep(int ms, string where) => Sleep(MsleepNs(ms), $"{where}: msleep({ms})");

    /// <summary>How long msleep(<paramref name="ms"/>) sleeps: msecs_to_jiffies(ms) + 1 ticks.</summary>
    public long MsleepNs(int ms) => (MsecsToJiffies(ms) + 1) * TickNs;

    /// <summary>congestion_wait(BLK_RW_ASYNC, HZ/10): no device is ever congested here, so the whole timeout passes.</summary>
    [Preemptible]
    public void CongestionWait() => Sleep(Hz / 10 * TickNs, "congestion_wait");

    /// <summary>A wait of <paramref name="ns"/> for a device at <paramref name="point"/> (wait_event until an interrupt).</summary>
    [Preemptible]
    public void WaitForDevice(long ns, string point) => Sleep(ns, point);

    /// <summary>
    /// A task waits at <paramref name="point"/> for a page's read from the disk, <see cref="SimulationOptions.IoLatencyMs"/>;
    /// false, without waiting, on a synchronous device (a latency of 0), whose read is done when it is submitted. The wait
    /// for a page of the workingset (PG_workingset, 6.1) is a memory stall: folio_wait_bit_common's thrashing accounting
    /// of a wait on the lock of a page not yet up to date.
    /// </summary>
    [Preemptible]
    public bool WaitForRead(string point, bool workingset)
    {
        if (_ioLatencyNs == 0) return false;
        using var stall = workingset ? _scheduler.Psi.Memstall() : default;
        Sleep(_ioLatencyNs, point, iowait: true);
        return true;
    }

    /// <summary>schedule_timeout_*(<paramref name="jiffies"/>) at <paramref name="where"/>.</summary>
    [Preemptible]
    public void ScheduleTimeout(long jiffies, string where) => Sleep(jiffies * TickNs, $"{where}: schedule_timeout({jiffies})");

    /// <summary>
    /// schedule_timeout on a wait queue: asleep for at most <paramref name="jiffies"/>, woken earlier once
    /// <paramref name="woken"/> holds after a timer's work (run to completion; a switching run lets the whole timeout pass).
    /// </summary>
    [Preemptible]
    public void ScheduleTimeout(long jiffies, string where, Func<bool> woken) =>
        Sleep(jiffies * TickNs, $"{where}: schedule_timeout({jiffies})", woken);

    /// <summary>
    /// Who handles timers of <paramref name="kind"/>: each part registers its own when it is built. A timer is plain
    /// data (kind, argument, due time), so a snapshot can copy the queue.
    /// </summary>
    public void Handle(TimerKind kind, Action<long> fire)
    {
        if (_handlers[(int)kind] is not null) throw new InvalidOperationException($"a handler for {kind} timers is registered already");
        _handlers[(int)kind] = fire;
    }

    /// <summary>Arm a timer: the handler of <paramref name="kind"/> runs with <paramref name="arg"/> once time reaches <paramref name="dueNs"/>.</summary>
    public void AddTimer(long dueNs, TimerKind kind, long arg = 0)
    {
        if (_handlers[(int)kind] is null) throw new InvalidOperationException($"no handler for {kind} timers");
        _timers.Enqueue(new Timer(kind, arg), (dueNs, _timerSeq++));
    }

    /// <summary>Timers armed and not yet fired.</summary>
    public int PendingTimers => _timers.Count;

    /// <summary>
    /// Let time pass until <paramref name="targetNs"/>: fire every timer due by then, in order of due time (and of
    /// arming), moving time to each one's due time first; then move time to the target (unless the fired work ran past it).
    /// </summary>
    public void RunUntil(long targetNs) => RunUntil(targetNs, stop: null);

    /// <summary>
    /// <see cref="RunUntil(long)"/> that ends early, before the next timer, once <paramref name="stop"/> says so (Ctrl-C
    /// while sim.run lets time pass): time then stays where the last timer left it.
    /// </summary>
    public void RunUntil(long targetNs, Func<bool>? stop) => RunUntil(targetNs, stop, iowait: false);

    /// <summary>
    /// <see cref="RunUntil(long, Func{bool})"/> with the running path asleep meanwhile (for PSI: in <c>io_schedule</c> if
    /// <paramref name="iowait"/>), so a CPU whose path lets time pass is idle unless what the timers bring runs there.
    /// </summary>
    private void RunUntil(long targetNs, Func<bool>? stop, bool iowait)
    {
        var sleeper = _scheduler.Current;
        _scheduler.Psi.TaskSleeps(sleeper, iowait);
        _deadlines.Push(targetNs);
        try
        {
            while (_timers.TryPeek(out _, out var key) && key.DueNs <= targetNs)
            {
                if (stop?.Invoke() == true) return;
                var timer = _timers.Dequeue();
                if (_scheduler.NowNs < key.DueNs) _scheduler.NowNs = key.DueNs;
                _handlers[(int)timer.Kind]!(timer.Arg);
            }
            if (stop?.Invoke() == true) return; // the last timer's work was what it waited for
            if (_scheduler.NowNs < targetNs) _scheduler.NowNs = targetNs;
        }
        finally
        {
            _deadlines.Pop();
            _scheduler.Psi.TaskWakes(sleeper);
        }
    }

    /// <summary>
    /// Fire the earliest armed timer, moving time to it first, the waiting path asleep meanwhile (in <c>io_schedule</c>
    /// if <paramref name="iowait"/>); false if none is armed.
    /// </summary>
    private bool FireNextTimer(bool iowait)
    {
        if (!_timers.TryPeek(out _, out var key)) return false;
        RunUntil(Math.Max(key.DueNs, NowNs), stop: null, iowait);
        return true;
    }

    /// <summary>
    /// True once the time being let pass (the innermost <see cref="RunUntil(long)"/>: a sleep, or sim.run) is used up, or
    /// when no time is being let pass at all: a kernel thread that works on and on (the balloon thread towards a
    /// target) then stops and re-arms its timer for the next tick.
    /// </summary>
    public bool PastDeadline => _deadlines.Count == 0 || NowNs >= _deadlines.Peek();

    /// <summary>The armed timers (plain data) and the slice; the time itself is the scheduler's.</summary>
    public object Save() => (_timers.UnorderedItems.ToArray(), _timerSeq, TimesliceNs);

    public void Restore(object saved)
    {
        ((Timer, (long, long))[] timers, _timerSeq, long timeslice) = (((Timer, (long, long))[], long, long))saved;
        _timers.Clear();
        _timers.EnqueueRange(timers);
        TimesliceNs = timeslice;
    }

    [Preemptible]
    private void Sleep(long ns, string point, Func<bool>? woken = null, bool iowait = false)
    {
        long wake = NowNs + ns;
        _scheduler.Preempt(point);
        if (_scheduler.Switching)
        {
            if (_scheduler.NowNs < wake) _scheduler.NowNs = wake;
            return;
        }
        RunUntil(wake, woken, iowait);
    }

    private readonly record struct Timer(TimerKind Kind, long Arg);
}
