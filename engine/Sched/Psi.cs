using System.Text;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// 6.1's pressure stall information for memory, I/O and CPU: the system group (<c>psi_system</c>) behind
/// /proc/pressure/memory, io and cpu, read in kernel/sched/psi.c (Android common 6.1, checked against a 6.1.78 vendor tree), with kernel.org 6.1.y's
/// averaging work since 6.1.42 (docs/model.md).
/// <para>
/// Each CPU's state follows the counts of its tasks (<c>psi_group_change</c>, <c>test_state</c>): memory SOME while a
/// task is in a memory stall; memory FULL while one is and every running task is stalled too, or the task on the CPU is;
/// I/O SOME while a task waits in <c>io_schedule</c>, I/O FULL while one does and none runs; CPU SOME while a runnable
/// task waits for the CPU (CPU FULL is undefined at the system level); NONIDLE while a task runs,
/// stalls or waits for I/O. Time is added to each state the CPU was in at every change
/// (<c>record_times</c>, in u32 nanoseconds, wrapping as the kernel's do). A collection (<c>collect_percpu_times</c>) takes
/// each CPU's time since the one before, weights it by that CPU's non-idle time in whole jiffies (truncated: a CPU busy
/// for less than a jiffy since the last collection adds nothing) and adds the weighted mean to the totals. The averages
/// (<c>update_averages</c>, <c>calc_avgs</c>) move on a fixed grid of PSI_FREQ = 2 s + 1 tick: each sample is the share
/// of the period stalled (at most all of it), decayed into avg10/60/300 as the load average is; periods no update
/// fell in decay them towards 0 first (<c>calc_load_n</c>). The averaging work (<c>psi_avgs_work</c>) re-arms itself
/// while the system is busy and stops when it is idle: kernel.org 6.1.y from 6.1.42 (v6.2's "sched/psi: Fix avgs_work
/// re-arm in psi_avgs_work()": its own CPU counts only with another task on it; the Android common tree lacks it and
/// never stops); the next change arms it again, PSI_FREQ on. It is run here when time is next looked at, at the tick the
/// timer wheel fires it (its delay rounded up to the wheel's bucket). A read (<c>psi_show</c>) collects too, and updates
/// the averages if a period is due.
/// </para>
/// <para>
/// Triggers (<c>psi_trigger_create</c>, <c>psi_poll_work</c>, <c>update_triggers</c>): a change into a watched state
/// wakes the poll worker (psimon) a jiffy later (and the timer wheel's jiffy more); it collects into its own totals (the PSI_POLL aggregator), starts each
/// trigger's window when polling begins, keeps polling for ten of the shortest window's tenths after the last change it
/// saw, and every such tenth (<c>poll_min_period</c>) compares each trigger's growth with its threshold
/// (<see cref="PsiTrigger"/>). Run, as the averaging work is, when time is next looked at.
/// </para>
/// </summary>
internal sealed class Psi : IPsi, ISnapshotState
{
    // psi_states of the I/O, memory and CPU resources (res * 2 + full, as the kernel's), and NONIDLE: indexes of the per-CPU times.
    private const int IoSome = 0, IoFull = 1, MemSome = 2, MemFull = 3, CpuSome = 4, NonIdle = 6, States = 7;
    // enum psi_aggregators: the averages' collection and the poll worker's, each with its own previous times and totals.
    private const int PsiAvgs = 0, PsiPoll = 1;
    // Trigger windows (psi.c): 500 ms to 10 s, updated ten times a window.
    private const uint WindowMinUs = 500_000, WindowMaxUs = 10_000_000, UpdatesPerWindow = 10;
    // enum psi_res: the resources /proc/pressure shows, each SOME at res * 2 and FULL after it.
    private const int ResIo = 0, ResMem = 1, ResCpu = 2;
    // psi_task_count flags (TSK_*): the bits of SimTask.PsiFlags.
    private const int TskIowait = 1 << 0, TskMemstall = 1 << 1, TskRunning = 1 << 2, TskMemstallRunning = 1 << 3;
    // Load-average fixed point (include/linux/sched/loadavg.h) and PSI's decay factors: EXP_10s, EXP_60s, EXP_300s.
    private const int FShift = 11;
    private const ulong Fixed1 = 1UL << FShift;
    private static readonly ulong[] Exp = [1677, 1981, 2034];
    private static readonly string[] Windows = ["avg10", "avg60", "avg300"];

    private readonly Scheduler _scheduler;
    private readonly SimClock _clock;
    /// <summary>PSI_FREQ in jiffies (2*HZ+1) and in nanoseconds (psi_period = jiffies_to_nsecs(PSI_FREQ)).</summary>
    private readonly long _psiFreq, _psiPeriod;
    [NotState("empty between operations, when snapshots are taken: every path has ended")]
    private readonly List<SimTask> _live = [];
    private readonly uint[] _times; // [cpu * States + state]
    private readonly uint[][] _timesPrev; // [aggregator][cpu * States + state]
    private readonly int[] _stateMask;
    private readonly long[] _stateStart;
    private readonly ulong[][] _total = [new ulong[NonIdle], new ulong[NonIdle]]; // [aggregator][state]
    private readonly ulong[] _avgTotal = new ulong[NonIdle];
    private readonly ulong[] _avg = new ulong[NonIdle * 3]; // [state * 3 + window]
    private long _avgLastUpdate, _avgNextUpdate;
    /// <summary>When the averaging work runs next (<see cref="long.MaxValue"/>: stopped), and the CPU it was armed on.</summary>
    private long _avgsWorkDueNs;
    private int _avgsWorkCpu;
    /// <summary>The open triggers by handle: the group's trigger list.</summary>
    private SortedDictionary<int, PsiTrigger> _triggers = [];
    [NotState("handles are never reused, across restores and forks too: a restore keeps the larger count")]
    private int _nextTriggerHandle;
    private int _pollStates;
    private ulong _pollMinPeriod = uint.MaxValue; // u64, set to U32_MAX by group_init
    private ulong _pollingNextUpdate = ulong.MaxValue, _pollingUntil;
    private readonly ulong[] _pollingTotal = new ulong[NonIdle];
    /// <summary>poll_scheduled; when the poll timer fires (<see cref="long.MaxValue"/>: not pending).</summary>
    private bool _pollScheduled;
    private long _pollDueNs = long.MaxValue;

    public Psi(Scheduler scheduler, SimClock clock)
    {
        _scheduler = scheduler;
        _clock = clock;
        _psiFreq = 2 * clock.Hz + 1;
        _psiPeriod = _psiFreq * 1_000_000 / clock.Hz * 1000; // jiffies_to_usecs, then to ns
        int cpus = scheduler.Cpus;
        (_times, _timesPrev) = (new uint[cpus * States], [new uint[cpus * States], new uint[cpus * States]]);
        (_stateMask, _stateStart) = (new int[cpus], new long[cpus]);
        _avgLastUpdate = clock.NowNs; // group_init
        _avgNextUpdate = _avgLastUpdate + _psiPeriod;
        _avgsWorkDueNs = DelayedWorkDueNs(clock.NowNs, _psiFreq); // armed by boot's task changes
        scheduler.Psi = this;
    }

    public void TaskStarts(SimTask task)
    {
        if (task.PsiLive) return;
        Change(task, 0, TskRunning | (task.InMemstall ? TskMemstall | TskMemstallRunning : 0), add: true);
    }

    public bool TaskEnds(SimTask task)
    {
        if (!task.PsiLive) return false;
        Change(task, task.PsiFlags, 0, remove: true);
        return true;
    }

    public void TaskSleeps(SimTask task, bool iowait)
    {
        if (!task.PsiLive || task.PsiSleeps++ > 0) return;
        Change(task, TskRunning | TskMemstallRunning, iowait ? TskIowait : 0);
    }

    public void TaskWakes(SimTask task)
    {
        if (!task.PsiLive || --task.PsiSleeps > 0) return;
        Change(task, TskIowait, TskRunning | (task.InMemstall ? TskMemstallRunning : 0));
    }

    public PsiMemstall Memstall()
    {
        var task = _scheduler.Current;
        if (!task.PsiLive || task.InMemstall) return default;
        task.InMemstall = true;
        Change(task, 0, TskMemstall | (task.PsiSleeps == 0 ? TskMemstallRunning : 0));
        return new PsiMemstall(this, task);
    }

    /// <summary>psi_memstall_leave of the outermost enter.</summary>
    internal void MemstallLeave(SimTask task)
    {
        task.InMemstall = false;
        if (task.PsiLive) Change(task, TskMemstall | TskMemstallRunning, 0);
    }

    /// <summary>/proc/pressure/memory (<see cref="Show"/>).</summary>
    public string ShowMemory() => Show(ResMem);

    /// <summary>/proc/pressure/io (<see cref="Show"/>).</summary>
    public string ShowIo() => Show(ResIo);

    /// <summary>/proc/pressure/cpu (<see cref="Show"/>).</summary>
    public string ShowCpu() => Show(ResCpu);

    /// <summary>
    /// psi_show of resource <paramref name="res"/>: the averages and the totals in microseconds, "some" and "full" (CPU
    /// FULL, undefined at the system level, printed as zeros); collects first, as a read does, so reading changes what later reads show (a CPU busy for less than a jiffy between
    /// reads adds nothing).
    /// </summary>
    private string Show(int res)
    {
        long now = _clock.NowNs;
        RunDueWork(now);
        Collect(now, PsiAvgs, workCpu: -1, out _);
        if (now >= _avgNextUpdate) _avgNextUpdate = UpdateAverages(now);
        var text = new StringBuilder();
        for (int full = 0; full < 2; full++)
        {
            int state = res * 2 + full;
            bool undefined = res == ResCpu && full == 1; // CPU FULL at the system level
            text.Append(full == 0 ? "some" : "full");
            for (int w = 0; w < 3; w++)
            {
                ulong avg = undefined ? 0 : _avg[state * 3 + w];
                text.Append($" {Windows[w]}={avg >> FShift}.{((avg & (Fixed1 - 1)) * 100) >> FShift:D2}"); // LOAD_INT, LOAD_FRAC
            }
            text.Append($" total={(undefined ? 0 : _total[PsiAvgs][state] / 1000)}\n");
        }
        return text.ToString();
    }

    /// <summary>
    /// psi_group_change for <paramref name="task"/>'s CPU: the averaging work due by now runs first (it would have, on its
    /// timer), the time since the CPU's last change goes to the states it was in, then the task's flags change and the
    /// CPU's state is worked out again; a stopped averaging work is armed on that CPU, PSI_FREQ ticks on, and the poll
    /// worker, if a trigger watches a state the CPU is now in, is armed a jiffy on (firing a jiffy after that, as the
    /// timer wheel fires level-0 timers) unless it is scheduled already.
    /// </summary>
    private void Change(SimTask task, int clear, int set, bool add = false, bool remove = false)
    {
        long now = _clock.NowNs;
        int cpu = task.Cpu;
        RunDueWork(now);
        RecordTimes(cpu, now);
        task.PsiFlags = (task.PsiFlags & ~clear) | set;
        if (add)
        {
            (task.PsiLive, task.PsiSleeps) = (true, 0);
            _live.Add(task);
        }
        if (remove)
        {
            task.PsiLive = false;
            _live.Remove(task);
        }
        UpdateStateMask(cpu);
        if ((_stateMask[cpu] & _pollStates) != 0) SchedulePollWork(now, 1, force: false);
        if (_avgsWorkDueNs == long.MaxValue) (_avgsWorkDueNs, _avgsWorkCpu) = (DelayedWorkDueNs(now, _psiFreq), cpu);
    }

    /// <summary>record_times: the time since <paramref name="cpu"/>'s last change, added to the states it was in (u32).</summary>
    private void RecordTimes(int cpu, long now)
    {
        uint delta = (uint)(now - _stateStart[cpu]);
        _stateStart[cpu] = now;
        int mask = _stateMask[cpu], at = cpu * States;
        for (int some = 0; some < NonIdle; some += 2)
        {
            if ((mask & 1 << some) == 0) continue;
            _times[at + some] += delta;
            if ((mask & 1 << (some + 1)) != 0) _times[at + some + 1] += delta;
        }
        if ((mask & 1 << NonIdle) != 0) _times[at + NonIdle] += delta;
    }

    /// <summary>
    /// test_state over <paramref name="cpu"/>'s task counts, and the running task's own stall: FULL also while the task on
    /// the CPU is in a memory stall, whatever else is runnable. The task on the CPU is the running one started last: a
    /// path woken nested on its waker's CPU runs there until it ends (<see cref="_live"/> is in order of start).
    /// </summary>
    private void UpdateStateMask(int cpu)
    {
        int iowait = 0, memstall = 0, running = 0, memstallRunning = 0;
        SimTask? curr = null;
        foreach (var task in _live)
        {
            if (task.Cpu != cpu) continue;
            int flags = task.PsiFlags;
            if ((flags & TskIowait) != 0) iowait++;
            if ((flags & TskMemstall) != 0) memstall++;
            if ((flags & TskMemstallRunning) != 0) memstallRunning++;
            if ((flags & TskRunning) == 0) continue;
            running++;
            curr = task;
        }
        int mask = 0;
        if (iowait > 0) mask |= 1 << IoSome;
        if (iowait > 0 && running == 0) mask |= 1 << IoFull;
        if (memstall > 0) mask |= 1 << MemSome;
        if (memstall > 0 && (running == memstallRunning || curr is { InMemstall: true })) mask |= 1 << MemFull;
        // CPU SOME: NR_RUNNING > oncpu. Whenever a task runs here, one of them is on the CPU, so a second one waits for it
        // (a waker a nested thread preempted); CPU FULL, running tasks and none on the CPU, does not happen.
        if (running > 1) mask |= 1 << CpuSome;
        if (iowait > 0 || memstall > 0 || running > 0) mask |= 1 << NonIdle;
        _stateMask[cpu] = mask;
    }

    /// <summary>The averaging work and the poll worker at each time either was due up to <paramref name="now"/>, in time order.</summary>
    private void RunDueWork(long now)
    {
        while (Math.Min(_avgsWorkDueNs, _pollDueNs) <= now)
        {
            if (_avgsWorkDueNs <= _pollDueNs) AvgsWork(_avgsWorkDueNs);
            else PollWork(_pollDueNs);
        }
    }

    /// <summary>
    /// psi_avgs_work at <paramref name="at"/>: collect, update the averages if a period is due, and re-arm for the tick
    /// after the next update if the system was busy (PSI_STATE_RESCHEDULE), else stop.
    /// </summary>
    private void AvgsWork(long at)
    {
        bool reschedule = Collect(at, PsiAvgs, _avgsWorkCpu, out _);
        if (at >= _avgNextUpdate) _avgNextUpdate = UpdateAverages(at);
        _avgsWorkDueNs = reschedule
            ? DelayedWorkDueNs(at, (long)NsecsToJiffies(_avgNextUpdate - at) + 1)
            : long.MaxValue;
    }

    /// <summary>
    /// psi_poll_work at <paramref name="at"/>, when its timer fires: past the polling window it may stop (poll_scheduled
    /// cleared), within it it keeps itself scheduled; it collects into the poll totals, and a change in a watched state
    /// starts the triggers' windows (if polling was over) and keeps polling for ten minimum periods more; each minimum
    /// period it updates the triggers, and it is woken again for the next update.
    /// </summary>
    private void PollWork(long at)
    {
        _pollDueNs = long.MaxValue;
        ulong now = (ulong)at;
        bool force = false;
        if (now > _pollingUntil) _pollScheduled = false;
        else force = true;
        Collect(at, PsiPoll, workCpu: -1, out int changed);
        if ((changed & _pollStates) != 0)
        {
            if (now > _pollingUntil) InitTriggers(now);
            _pollingUntil = now + _pollMinPeriod * UpdatesPerWindow;
        }
        if (now > _pollingUntil)
        {
            _pollingNextUpdate = ulong.MaxValue;
            return;
        }
        if (now >= _pollingNextUpdate) _pollingNextUpdate = UpdateTriggers(now);
        SchedulePollWork(at, (long)NsecsToJiffies((long)(_pollingNextUpdate - now)) + 1, force);
    }

    /// <summary>psi_schedule_poll_work: the poll timer armed <paramref name="delay"/> jiffies on (6.1's wheel), unless scheduled already and not forced.</summary>
    private void SchedulePollWork(long now, long delay, bool force)
    {
        bool scheduled = _pollScheduled;
        _pollScheduled = true;
        if (scheduled && !force) return;
        _pollDueNs = DelayedWorkDueNs(now, delay);
    }

    /// <summary>init_triggers: every trigger's window starts at <paramref name="now"/>, at its state's poll total.</summary>
    private void InitTriggers(ulong now)
    {
        foreach (var t in _triggers.Values) t.ResetWindow(now, _total[PsiPoll][t.State], 0);
        _total[PsiPoll].CopyTo(_pollingTotal, 0);
        _pollingNextUpdate = now + _pollMinPeriod;
    }

    /// <summary>
    /// update_triggers: each trigger whose state stalled since the last update (or that holds back an event) measures its
    /// window's growth; at the threshold or above it has an event to make, which it makes unless it made one less than a
    /// window ago (held back until then, not dropped). Returns the next update's time.
    /// </summary>
    private ulong UpdateTriggers(ulong now)
    {
        bool updateTotal = false;
        ulong[] total = _total[PsiPoll];
        foreach (var t in _triggers.Values)
        {
            bool newStall = _pollingTotal[t.State] != total[t.State];
            if (!newStall && !t.PendingEvent) continue;
            if (newStall)
            {
                updateTotal = true;
                ulong growth = t.UpdateWindow(now, total[t.State]);
                if (!t.PendingEvent)
                {
                    if (growth < t.Threshold) continue;
                    t.PendingEvent = true;
                }
            }
            if (now < t.LastEventTime + t.WindowSize) continue;
            t.Event = true;
            t.EventTimes.Add((long)now);
            t.LastEventTime = now;
            t.PendingEvent = false;
        }
        if (updateTotal) total.CopyTo(_pollingTotal, 0);
        return now + _pollMinPeriod;
    }

    /// <summary>
    /// psi_trigger_create from the text written to /proc/pressure/&lt;<paramref name="resource"/>&gt; ("memory", "io" or "cpu";
    /// "some|full threshold_us window_us"; 6.1 takes windows of 500 ms to 10 s and a threshold of 1 µs to the window): a
    /// new trigger whose window starts now at the state's poll total. The first trigger starts psimon; the poll period is
    /// the shortest window's tenth. Returns the trigger's handle.
    /// </summary>
    public int CreateTrigger(string resource, string text)
    {
        int res = Check.OneOf(resource, "resource", "memory", "io", "cpu") switch { "memory" => ResMem, "io" => ResIo, _ => ResCpu };
        Check.That(PsiTrigger.TryScan(text, out bool full, out uint thresholdUs, out uint windowUs), "trigger",
            $"must be \"some <threshold_us> <window_us>\" or \"full <threshold_us> <window_us>\", got '{text}'");
        Check.InRange(windowUs, "window_us", WindowMinUs, WindowMaxUs);
        Check.InRange(thresholdUs, "threshold_us", 1, windowUs);
        long now = _clock.NowNs;
        RunDueWork(now);
        var t = new PsiTrigger(res * 2 + (full ? 1 : 0), thresholdUs * 1000UL, windowUs * 1000UL);
        t.ResetWindow((ulong)now, _total[PsiPoll][t.State], 0);
        int handle = _nextTriggerHandle++;
        _triggers.Add(handle, t);
        _pollMinPeriod = Math.Min(_pollMinPeriod, t.WindowSize / UpdatesPerWindow);
        _pollStates |= 1 << t.State;
        return handle;
    }

    /// <summary>poll() of the trigger's file: whether an event came since the last poll (EPOLLPRI), clearing it.</summary>
    public bool PollTrigger(int handle)
    {
        var t = Trigger(handle);
        bool happened = t.Event;
        t.Event = false;
        return happened;
    }

    /// <summary>The simulated time (ns) of each event <paramref name="handle"/>'s trigger made so far.</summary>
    public long[] TriggerEvents(int handle) => [.. Trigger(handle).EventTimes];

    /// <summary>
    /// psi_trigger_destroy (closing the file): off the list, the poll period from the triggers left; after the last one
    /// psimon stops, its timer deleted and polling over.
    /// </summary>
    public void DestroyTrigger(int handle)
    {
        Trigger(handle);
        _triggers.Remove(handle);
        ulong period = ulong.MaxValue;
        _pollStates = 0;
        foreach (var left in _triggers.Values)
        {
            period = Math.Min(period, left.WindowSize / UpdatesPerWindow);
            _pollStates |= 1 << left.State;
        }
        _pollMinPeriod = period;
        if (_pollStates != 0) return;
        (_pollingUntil, _pollDueNs, _pollScheduled) = (0, long.MaxValue, false);
    }

    /// <summary>The live trigger of <paramref name="handle"/>, its work due by now done; an argument error for any other handle.</summary>
    private PsiTrigger Trigger(int handle)
    {
        Check.That(_triggers.TryGetValue(handle, out var trigger), "trigger",
            $"no open trigger {handle} (closed, or created after the state this simulation was restored to)");
        RunDueWork(_clock.NowNs);
        return trigger!;
    }

    /// <summary>
    /// collect_percpu_times (get_recent_times per CPU): each state's time since the last collection, the running states'
    /// up to <paramref name="now"/>; each CPU weighted by its non-idle jiffies; the weighted means added to the totals.
    /// From the averaging work on <paramref name="workCpu"/> (-1 for a read or the poll worker), whether to re-arm it: a
    /// task (running, in iowait or stalled) besides the kworker on that CPU, or non-idle time on another. Each
    /// <paramref name="aggregator"/> has its own previous times and totals; <paramref name="changed"/> has a bit for each
    /// state some CPU spent time in since its last collection.
    /// </summary>
    private bool Collect(long now, int aggregator, int workCpu, out int changed)
    {
        changed = 0;
        uint[] timesPrev = _timesPrev[aggregator];
        bool reschedule = false;
        ulong nonidleTotal = 0;
        Span<uint> delta = stackalloc uint[States];
        Span<ulong> stall = stackalloc ulong[NonIdle];
        stall.Clear();
        for (int cpu = 0; cpu < _stateMask.Length; cpu++)
        {
            int at = cpu * States, mask = _stateMask[cpu];
            for (int s = 0; s < States; s++)
            {
                uint times = _times[at + s];
                if ((mask & 1 << s) != 0) times += (uint)(now - _stateStart[cpu]);
                delta[s] = times - timesPrev[at + s];
                timesPrev[at + s] = times;
                if (delta[s] != 0) changed |= 1 << s;
            }
            if (workCpu >= 0) reschedule |= cpu == workCpu ? CountsTasks(cpu) : delta[NonIdle] != 0;
            ulong nonidle = NsecsToJiffies(delta[NonIdle]);
            nonidleTotal += nonidle;
            for (int s = 0; s < NonIdle; s++) stall[s] += delta[s] * nonidle;
        }
        for (int s = 0; s < NonIdle; s++) _total[aggregator][s] += stall[s] / Math.Max(nonidleTotal, 1);
        return reschedule;
    }

    /// <summary>tasks[NR_RUNNING] + tasks[NR_IOWAIT] + tasks[NR_MEMSTALL] of <paramref name="cpu"/>, the kworker's left out, above 0.</summary>
    private bool CountsTasks(int cpu)
    {
        foreach (var task in _live)
            if (task.Cpu == cpu && (task.PsiFlags & (TskRunning | TskIowait | TskMemstall)) != 0) return true;
        return false;
    }

    /// <summary>
    /// update_averages: the periods of the grid missed since the last update (the averaging work stopped meanwhile), the
    /// next update on the grid, this period's length (since the last update less the missed periods), and for each
    /// resource's SOME and FULL the stall since then as a sample (u32, at most the period: the rest carries over), folded into the averages
    /// (calc_avgs: the missed periods as zeros, calc_load_n, then the sample's whole percent). Returns the next update's time.
    /// </summary>
    private long UpdateAverages(long now)
    {
        long expires = _avgNextUpdate, missed = 0;
        if (now - expires >= _psiPeriod) missed = (now - expires) / _psiPeriod;
        long period = now - (_avgLastUpdate + missed * _psiPeriod);
        _avgLastUpdate = now;
        for (int s = 0; s < NonIdle; s++)
        {
            uint sample = (uint)(_total[PsiAvgs][s] - _avgTotal[s]);
            if (sample > period) sample = (uint)period;
            _avgTotal[s] += sample;
            ulong pct = sample * 100UL / (ulong)period * Fixed1;
            for (int w = 0; w < 3; w++)
            {
                ref ulong avg = ref _avg[s * 3 + w];
                if (missed > 0) avg = CalcLoad(avg, FixedPowerInt(Exp[w], (uint)missed), 0);
                avg = CalcLoad(avg, Exp[w], pct);
            }
        }
        return expires + (1 + missed) * _psiPeriod;
    }

    /// <summary>calc_load (loadavg.h): an exponential step in fixed point, rounded up while the load rises.</summary>
    internal static ulong CalcLoad(ulong load, ulong exp, ulong active)
    {
        ulong newload = load * exp + active * (Fixed1 - exp);
        if (active >= load) newload += Fixed1 - 1;
        return newload / Fixed1;
    }

    /// <summary>fixed_power_int(x, FSHIFT, n), behind calc_load_n (kernel/sched/loadavg.c): x^n in fixed point, rounded each step.</summary>
    internal static ulong FixedPowerInt(ulong x, uint n)
    {
        ulong result = Fixed1;
        while (n != 0)
        {
            if ((n & 1) != 0) result = (result * x + (Fixed1 >> 1)) >> FShift;
            n >>= 1;
            if (n == 0) break;
            x = (x * x + (Fixed1 >> 1)) >> FShift;
        }
        return result;
    }

    private long Jiffies(long ns) => ns / _clock.TickNs;

    /// <summary>
    /// When a delayed work armed at <paramref name="now"/> for <paramref name="delay"/> jiffies runs: 6.1's timer wheel
    /// (4.8+; kernel/time/timer.c calc_wheel_index, calc_index) files a timer 63 jiffies or more ahead in a level of
    /// 8^n-jiffy buckets (63 to 503: 8, 504 to 4031: 64, ...) and it fires at the next bucket boundary above its expiry,
    /// in absolute jiffies, which start at INITIAL_JIFFIES (2^32 − 300·HZ on 64-bit); a nearer one fires a jiffy after its
    /// expiry. So PSI's 2 s delay fires up to 8 ticks late at HZ=100 and 250, up to 64 at 300 and 1000.
    /// </summary>
    internal long DelayedWorkDueNs(long now, long delay)
    {
        ulong initialJiffies = unchecked((ulong)(uint)(-300 * _clock.Hz));
        ulong expires = initialJiffies + (ulong)(Jiffies(now) + delay);
        int shift = 0; // the level's: 3 per level, LVL_START(n + 1) = 63 << 3n; PSI's delays reach level 2 of the 8 or 9
        while (shift < 3 * 8 && delay >= 63L << shift) shift += 3;
        ulong fires = ((expires >> shift) + 1) << shift;
        return (long)(fires - initialJiffies) * _clock.TickNs;
    }

    /// <summary>nsecs_to_jiffies: truncating; for a HZ that does not divide a second in nanoseconds (300), the kernel's generic
    /// formula, n · 9 / ((9·10⁹ + HZ/2) / HZ).</summary>
    private ulong NsecsToJiffies(long ns) => 1_000_000_000 % _clock.Hz != 0
        ? (ulong)ns * 9 / ((9_000_000_000UL + (ulong)_clock.Hz / 2) / (ulong)_clock.Hz)
        : (ulong)ns / (ulong)(1_000_000_000 / _clock.Hz);

    public object Save() => (
        ((uint[])_times.Clone(), _timesPrev.Select(a => (uint[])a.Clone()).ToArray(), (int[])_stateMask.Clone(),
            (long[])_stateStart.Clone(), _total.Select(a => (ulong[])a.Clone()).ToArray(), (ulong[])_avgTotal.Clone(),
            (ulong[])_avg.Clone()),
        (_avgLastUpdate, _avgNextUpdate, _avgsWorkDueNs, _avgsWorkCpu),
        (_triggers.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()), _nextTriggerHandle, _pollStates, _pollMinPeriod, _pollingNextUpdate, _pollingUntil,
            (ulong[])_pollingTotal.Clone(), _pollScheduled, _pollDueNs));

    public void Restore(object saved)
    {
        var ((times, timesPrev, stateMask, stateStart, total, avgTotal, avg), averaging, polling) =
            (((uint[], uint[][], int[], long[], ulong[][], ulong[], ulong[]), (long, long, long, int),
              (Dictionary<int, PsiTrigger>, int, int, ulong, ulong, ulong, ulong[], bool, long)))saved;
        times.CopyTo(_times, 0);
        for (int a = 0; a < timesPrev.Length; a++) timesPrev[a].CopyTo(_timesPrev[a], 0);
        stateMask.CopyTo(_stateMask, 0);
        stateStart.CopyTo(_stateStart, 0);
        for (int a = 0; a < total.Length; a++) total[a].CopyTo(_total[a], 0);
        avgTotal.CopyTo(_avgTotal, 0);
        avg.CopyTo(_avg, 0);
        (_avgLastUpdate, _avgNextUpdate, _avgsWorkDueNs, _avgsWorkCpu) = averaging;
        (var triggers, int nextHandle, _pollStates, _pollMinPeriod, _pollingNextUpdate, _pollingUntil, var pollingTotal, _pollScheduled, _pollDueNs) = polling;
        _triggers = new(triggers.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        _nextTriggerHandle = Math.Max(_nextTriggerHandle, nextHandle); // a fork counts on from its source
        pollingTotal.CopyTo(_pollingTotal, 0);
    }
}
