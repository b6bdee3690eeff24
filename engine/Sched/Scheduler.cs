using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// The execution model: N simulated CPUs run kernel paths (<see cref="SimTask"/>) one at a time, so a run is
/// deterministic for a given strategy and seed. Kernel code calls <see cref="Preempt(string)"/> at points where the
/// real kernel could be interleaved with another CPU (lock operations, lockless reads that matter), and
/// <see cref="WaitUntil"/> where it would block.
/// <para>
/// Without a strategy (run-to-completion, the default for experiments) tasks run inline one after the other
/// on the caller's thread and a preemption point is a counter increment and a branch. With a strategy each
/// task runs on an OS thread (from <see cref="SimWorkers"/>, kept between runs), but a baton per task lets exactly
/// one of them run at any time; the running task itself asks the strategy at each preemption point and hands the
/// baton over directly.
/// </para>
/// <para>
/// A switching run whose tasks all have async bodies runs them as continuations on the caller's thread instead: the
/// kernel paths' async twins (<see cref="PreemptibleAttribute"/>) park at a switch and a run loop resumes the next one,
/// tens of nanoseconds a switch against a microsecond and a half for two OS threads. The schedules are the same, step
/// for step. A path without a twin runs synchronously; if it reaches a switch, the run cannot go on as continuations
/// and ends with <see cref="RunOutcome.NeedsThreads"/>, for its caller to run it again on threads.
/// </para>
/// </summary>
internal sealed partial class Scheduler : ISnapshotState
{
    [NotState("the path outside runs: neutral between operations")]
    private readonly SimTask _main = new(-1, 0, "main", () => { });
    [NotState("scratch of one decision")]
    private readonly List<SimTask> _runnable = [];
    [NotState("the record of the last switching run")]
    private readonly List<TraceEntry> _trace = [];
    [NotState("the record of the last switching run")]
    private readonly List<int> _choices = [];
    [NotState("the record of the last switching run")]
    private readonly List<int> _preemptions = [];
    [NotState("empty between runs")]
    private readonly List<SimTask> _woken = [];
    /// <summary>The tasks of the running run (an array: <see cref="AnyWaitingOn"/> reads it at every lock-release check).</summary>
    [NotState("set for one run")]
    private SimTask[] _tasks = [];
    private readonly FatalSignal _signal;
    [NotState("set for one run")]
    private IScheduleStrategy? _strategy;
    [NotState("set for one run")]
    private volatile bool _aborting;
    [NotState("set for one run")]
    private bool _interrupted;
    [NotState("set for one run")]
    private string? _deadlock;
    [NotState("set for one run")]
    private int _remaining;
    [NotState("set for one run")]
    private Baton? _allDone;
    [NotState("set for one run")]
    private SleepSets? _sleepSets;
    [NotState("set for one run")]
    private bool _pruned;
    [NotState("set for one run")]
    private bool _continuations;
    [NotState("set for one run")]
    private bool _needsThreads;
    [NotState("set for one run: the task a continuation run resumes next")]
    private SimTask? _resumeNext;
    [NotState("the simulation's locks, numbered as they are built")]
    private readonly List<SimLock> _locks = [];
    [NotState("the values of the simulation's shared arrays, their elements numbered as they are built (their owners save them)")]
    private readonly List<long[]> _shared = [];
    [NotState("how many shared elements are numbered: fixed once the simulation is built")]
    private int _sharedKeys;
    [NotState("the simulation's per-CPU sections, each free between runs")]
    private readonly List<CpuSections> _sections = [];
    private long _step;
    private long _nowNs;

    public Scheduler(SimulationOptions options, FatalSignal signal)
    {
        _signal = signal;
        Cpus = options.Cpus;
        Current = _main;
    }

    public int Cpus { get; }

    /// <summary>The kernel path running now (a "main" path on CPU 0 outside <see cref="Run"/>).</summary>
    [NotState("the main path between operations")]
    public SimTask Current { get; private set; }

    /// <summary>
    /// Pressure stall information, told when a path starts, ends, sleeps and wakes: 6.1's registers itself
    /// (<see cref="Sched.Psi"/>); the older kernels have none.
    /// </summary>
    public IPsi Psi { get; set; } = PsiNotConfigured.Instance;

    /// <summary>Preemption points passed since the simulation started (a kernel path that reads it is ordered against every
    /// other step: <see cref="StepAccesses.Global"/>).</summary>
    public long Step
    {
        get
        {
            if (StepAccesses.Compiled) Accesses?.Global();
            return _step;
        }
    }

    /// <summary>
    /// Simulated time in nanoseconds since boot. The CPUs' work advances it (<see cref="StepNs"/> per preemption
    /// point, as if the kernel paths ran one after another on one timeline); <see cref="Time.SimClock"/> advances it
    /// further over sleeps and timers.
    /// </summary>
    public long NowNs
    {
        get
        {
            if (StepAccesses.Compiled) Accesses?.Global();
            return _nowNs;
        }
        internal set
        {
            if (StepAccesses.Compiled) Accesses?.Global();
            _nowNs = value;
        }
    }

    /// <summary>
    /// The recorder of each step's accesses for partial-order reduction (<see cref="SleepSets"/>), or null: the
    /// simulated locks and the clock report to it, and the race's page arrays hold it too.
    /// </summary>
    [NotState("set for a race explored with partial-order reduction")]
    public StepAccesses? Accesses { get; set; }

    /// <summary>Every simulated lock of the simulation, by number.</summary>
    public IReadOnlyList<SimLock> Locks => _locks;

    /// <summary>Number a new simulated lock.</summary>
    public int RegisterLock(SimLock simLock)
    {
        _locks.Add(simLock);
        return _locks.Count - 1;
    }

    /// <summary>The values of every shared array of the simulation (<see cref="SharedArray"/>).</summary>
    public IReadOnlyList<long[]> Shared => _shared;

    /// <summary>Number the elements of a new shared array holding <paramref name="values"/>: the first one's number.</summary>
    public int RegisterShared(long[] values)
    {
        _shared.Add(values);
        _sharedKeys += values.Length;
        return _sharedKeys - values.Length;
    }

    /// <summary>
    /// Keep <paramref name="sections"/> free between runs: a section belongs to one call of one path, so any still held
    /// when a run ends was left by a path the run aborted, and is let go.
    /// </summary>
    public void Register(CpuSections sections) => _sections.Add(sections);

    private void FreeSections()
    {
        foreach (var sections in _sections) sections.Clear();
    }

    /// <summary>The CPU time one preemption point stands for: a few dozen instructions of kernel code, or one page examined.</summary>
    public const long StepNs = 25;

    /// <summary>Preemption points of the last run, in order (none for a run to completion).</summary>
    public IReadOnlyList<TraceEntry> Trace => _trace;

    /// <summary>Task ids chosen at each decision of the last run (what a replay feeds back).</summary>
    public IReadOnlyList<int> Choices => _choices;

    /// <summary>
    /// The decisions of the last run (indices into <see cref="Choices"/>) that were preemptions: a switch away from a
    /// running task that could have gone on (what a preemption bound counts).
    /// </summary>
    public IReadOnlyList<int> Preemptions => _preemptions;

    /// <summary>True while a strategy may switch CPUs at preemption points.</summary>
    public bool Switching => _strategy is not null;

    /// <summary>When switching runs of tasks with async bodies run them as continuations rather than on threads.</summary>
    [NotState("a setting of the host, not of the guest")]
    public ContinuationUse Continuations { get; set; } = ContinuationUse.Fastest;

    /// <summary>Under <see cref="ContinuationUse.Fastest"/>: the way measured faster for this race.</summary>
    [NotState("what the host's runs took, for the way of the next one (never its result)")]
    public ContinuationChoice Choice { get; } = new();

    /// <summary>A switching run under <paramref name="strategy"/> whose tasks all have async bodies runs as continuations (<see cref="Continuations"/>).</summary>
    public bool ContinuationsFor(IScheduleStrategy strategy) => Continuations switch
    {
        ContinuationUse.Never => false,
        ContinuationUse.Fastest => Choice.Next(strategy.SwitchesOften),
        _ => true,
    };

    /// <summary>Switching runs made as continuations since the simulation was built.</summary>
    [NotState("a count of the host's work")]
    public long ContinuationRuns { get; private set; }

    /// <summary>Continuation runs that reached a switch in a path without an async twin (<see cref="RunOutcome.NeedsThreads"/>).</summary>
    [NotState("a count of the host's work")]
    public long NeededThreads { get; private set; }

    /// <summary>
    /// Run <paramref name="tasks"/> until all finish. <paramref name="strategy"/> null = run to completion,
    /// in list order, inline. With <paramref name="threads"/> a switching run uses OS threads even if it could run as
    /// continuations.
    /// </summary>
    public RunOutcome Run(IReadOnlyList<SimTask> tasks, IScheduleStrategy? strategy, bool threads = false)
    {
        if (Switching) throw new InvalidOperationException("Scheduler.Run is not reentrant");
        foreach (var t in tasks)
            if (t.Cpu < 0 || t.Cpu >= Cpus)
                throw new ArgumentOutOfRangeException(nameof(tasks), $"task {t.Name} is on cpu {t.Cpu}; cpus are 0..{Cpus - 1}");
        _deadlock = null;
        _aborting = false;
        _interrupted = false;
        _pruned = false;
        _needsThreads = false;
        _trace.Clear();
        _choices.Clear();
        _preemptions.Clear();
        long start = _step;
        bool mainHandsOver = Psi.TaskEnds(_main); // the operation's paths run instead of it
        try
        {
            if (strategy is null || tasks.Count < 2) RunInline(tasks);
            else
            {
                bool continuations = !threads && ContinuationsFor(strategy) && tasks.All(t => t.AsyncBody is not null);
                long began = Choice.Clock();
                RunSwitching(tasks, strategy, continuations);
                long took = Choice.Clock() - began;
                if (!_needsThreads) Choice.Ran(continuations, took, _trace.Count);
            }
        }
        finally
        {
            FreeSections();
            if (mainHandsOver) Psi.TaskStarts(_main);
        }
        if (_needsThreads)
        {
            NeededThreads++;
            Choice.NeededThreads();
            _woken.Clear();
            return new RunOutcome(null, _step - start, false, NeedsThreads: true);
        }
        if (_pruned) return new RunOutcome(_deadlock, _step - start, _interrupted, Pruned: true);
        RunDeferredWoken();
        return new RunOutcome(_deadlock, _step - start, _interrupted);
    }

    /// <summary>
    /// Run <paramref name="body"/> on the main path (sim.run letting time pass: the timers' work runs nested in it).
    /// A path that blocks with no other CPU to run ends the body as <see cref="Run"/> ends a task; the outcome says why.
    /// </summary>
    public RunOutcome RunOnMain(Action body)
    {
        if (Switching) throw new InvalidOperationException("Scheduler.RunOnMain is not reentrant");
        _deadlock = null;
        _aborting = false;
        _interrupted = false;
        long start = _step;
        Psi.TaskStarts(_main);
        try { body(); }
        catch (SimAbortException) { }
        finally
        {
            Current = _main;
            Psi.TaskEnds(_main);
            FreeSections();
        }
        return new RunOutcome(_deadlock, _step - start, _interrupted);
    }
    /// <summary>The step count and the clock; everything else belongs to one run and is neutral between operations.</summary>
    public object Save() => (_step, _nowNs);

    public void Restore(object saved) => (_step, _nowNs) = ((long, long))saved;

    /// <summary>A preemption point: another CPU may run here (not while a run is being aborted: unwinding
    /// paths run one after another to the end). A switching run with a fatal signal pending (Ctrl-C) is aborted here.</summary>
    // The run-to-completion part inlined where kernel paths pass points (every lock, per page); the rest out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining), Preemptible]
    public void Preempt(string point)
    {
        _step++;
        _nowNs += StepNs;
        if (_strategy is not null && !_aborting) PreemptSwitching(point);
    }

    /// <summary>
    /// The most preemption points one switching run may pass: several times what the longest races take (the test suite's
    /// all end below 300,000; some pass 50,000), so a run past it is a path looping for ever under the schedule (a
    /// livelock, or a wait a starved path never ends). It is stopped there and reported, as a deadlock is, instead of
    /// growing its trace until the host runs out of memory.
    /// </summary>
    public const int MaxStepsPerRun = 2_000_000;

    /// <summary>A switching run's preemption point on threads: the strategy's pick, if another path, runs now.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PreemptSwitching(string point)
    {
        var current = Current;
        if (NextAt(point, current) is { } next) SwitchTo(current, next);
    }

    /// <summary>
    /// The twin of <see cref="Preempt(string)"/>, written out rather than generated: a point is passed thousands of times
    /// a run, and this completes at once (no state machine) unless the strategy switches.
    /// </summary>
    public ValueTask PreemptAsync(string point)
    {
        _step++;
        _nowNs += StepNs;
        if (_strategy is null || _aborting) return default;
        var current = Current;
        return NextAt(point, current) is { } next ? SwitchToAsync(current, next) : default;
    }

    /// <summary>
    /// A switching run's preemption point: abort on a pending signal, trace it, let the strategy pick who runs on; the
    /// path to switch to, or null if <paramref name="current"/> goes on.
    /// </summary>
    private SimTask? NextAt(string point, SimTask current)
    {
        if (_signal.Pending)
        {
            _interrupted = true;
            _aborting = true;
            throw new SimAbortException();
        }
        _trace.Add(new TraceEntry(_step, current.Cpu, current.Name, point));
        if (_trace.Count > MaxStepsPerRun)
            Abort($"livelock: no end after {MaxStepsPerRun.ToString("N0", CultureInfo.InvariantCulture)} preemption points ({current.Name} on cpu{current.Cpu} at {point})");
        _sleepSets?.Stepped(current);
        var runnable = CollectRunnable();
        if (runnable.Count < 2) return null;
        var next = Choose(runnable, current) ?? throw Prune();
        return next != current ? next : null;
    }

    /// <summary>
    /// <see cref="Preempt(string)"/> at a point named with a PFN (<paramref name="point"/> then <paramref name="pfn"/>), the
    /// name formatted only for a switching run's trace: a run to completion passes such points without allocating.
    /// </summary>
    [Preemptible]
    public void Preempt(string point, int pfn) => Preempt(_strategy is null ? point : point + pfn);

    /// <summary>
    /// Run to completion: let simulated time pass to the next timer (fire it), the waiting path asleep meanwhile (in
    /// <c>io_schedule</c> if the argument says so); false if no timer is armed. Set by <see cref="Time.SimClock"/>, so a
    /// path blocked on what a sleeping kernel thread holds, or on a page's I/O, waits for it to end.
    /// </summary>
    public Func<bool, bool>? LetTimePass { get; set; }

    /// <summary>The longest a run-to-completion path waits for a lock while time passes: ten simulated minutes.</summary>
    public const long MaxInlineWaitNs = 600_000_000_000;

    /// <summary>
    /// Block the running path until <paramref name="condition"/> holds (a lock it spins or sleeps on).
    /// Run to completion, nothing else runs but what time brings (timers: a kernel thread asleep holding the lock
    /// wakes and releases it); if no timer can, the path cannot go on. Switching, if no other path can run, time passes
    /// the same way (<see cref="LetTimePassWhileAllBlocked"/>), and with no timer left the run is a deadlock. Either way
    /// the run is aborted and <see cref="RunOutcome.Deadlock"/> says why.
    /// A path unwinding from an abort cannot block: it is unwound further. <paramref name="ioSchedule"/>: the kernel
    /// sleeps there in <c>io_schedule</c> (a page lock's or writeback's wait, <c>folio_wait_bit_common</c>), which PSI
    /// counts as waiting for I/O.
    /// </summary>
    [Preemptible]
    public void WaitUntil(Func<bool> condition, object waitingOn, string point, bool ioSchedule = false)
    {
        long since = _nowNs;
        while (!condition())
        {
            var current = Current;
            if (_aborting) throw new SimAbortException();
            if (_strategy is null)
            {
                if (_nowNs - since < MaxInlineWaitNs && LetTimePass?.Invoke(ioSchedule) == true) continue;
                Abort($"{current.Name} on cpu{current.Cpu} blocks on {point} with no other CPU running");
            }
            current.WaitCondition = condition;
            current.WaitingOn = waitingOn;
            _step++;
            _nowNs += StepNs;
            _trace.Add(new TraceEntry(_step, current.Cpu, current.Name, "blocked: " + point));
            _sleepSets?.Stepped(current);
            var runnable = CollectRunnable();
            if (runnable.Count == 0)
            {
                if (_nowNs - since < MaxInlineWaitNs && LetTimePassWhileAllBlocked(current, ioSchedule))
                {
                    current.WaitCondition = null;
                    current.WaitingOn = null;
                    continue;
                }
                Abort(DeadlockMessage());
            }
            var next = runnable.Count == 1 ? (_sleepSets?.Blocks(runnable[0]) == true ? null : runnable[0]) : Choose(runnable, current);
            SwitchTo(current, next ?? throw Prune());
            current.WaitCondition = null;
            current.WaitingOn = null;
        }
    }

    /// <summary>
    /// Switching, every path blocked: what only time brings (an I/O completing, a sleeping thread's timer) comes now, as
    /// it does for a path run to completion, on the CPU of the path that waited last (idle, it takes the interrupt).
    /// No schedule chooses this; a run that no timer can unblock is still a deadlock. False if no timer was armed.
    /// </summary>
    private bool LetTimePassWhileAllBlocked(SimTask current, bool ioSchedule)
    {
        var (condition, waitingOn) = (current.WaitCondition, current.WaitingOn);
        (current.WaitCondition, current.WaitingOn) = (null, null);
        bool fired = LetTimePass?.Invoke(ioSchedule) == true;
        (current.WaitCondition, current.WaitingOn) = (condition, waitingOn);
        return fired;
    }

    /// <summary>
    /// A kernel thread woken by the running path (kswapd, the balloon thread, a timer's work): run-to-completion runs
    /// it at once, nested in the waker, as if another CPU had picked it up; a switching run keeps the explored
    /// interleaving intact and runs it after its tasks finish.
    /// </summary>
    public void RunWoken(SimTask task)
    {
        if (Switching)
        {
            if (StepAccesses.Compiled) Accesses?.Global();
            _woken.Add(task);
            return;
        }
        var waker = Current;
        Dispatch(task);
        task.Started = true;
        Psi.TaskStarts(task);
        try { task.Body(); }
        finally
        {
            task.Done = true;
            Psi.TaskEnds(task);
            Current = waker;
        }
    }

    /// <summary>True if some blocked path waits for <paramref name="lockObject"/> (spin_is_contended).</summary>
    public bool AnyWaitingOn(object lockObject)
    {
        for (int i = 0; i < _tasks.Length; i++)
            if (!_tasks[i].Done && ReferenceEquals(_tasks[i].WaitingOn, lockObject)) return true;
        return false;
    }

    private static SimTask[] AsArray(IReadOnlyList<SimTask> tasks) => tasks as SimTask[] ?? [.. tasks];

    private void RunInline(IReadOnlyList<SimTask> tasks)
    {
        _tasks = AsArray(tasks);
        try
        {
            foreach (var t in tasks)
            {
                Dispatch(t);
                t.Started = true;
                Psi.TaskStarts(t);
                try { t.Body(); }
                catch (SimAbortException) { break; }
                finally
                {
                    t.Done = true;
                    Psi.TaskEnds(t);
                }
            }
        }
        finally
        {
            Current = _main;
            _tasks = [];
        }
    }

    /// <summary>The kernel threads woken during a switching run, each run to completion after it.</summary>
    private void RunDeferredWoken()
    {
        while (_woken.Count > 0)
        {
            var task = _woken[0];
            _woken.RemoveAt(0);
            RunWoken(task);
        }
    }

    private void RunSwitching(IReadOnlyList<SimTask> tasks, IScheduleStrategy strategy, bool continuations)
    {
        _tasks = AsArray(tasks);
        _strategy = strategy;
        _sleepSets = (strategy as DfsStrategy)?.SleepSets;
        _sleepSets?.Begin();
        _continuations = continuations;
        try
        {
            if (continuations) RunContinuations(tasks, strategy);
            else RunOnThreads(tasks, strategy);
        }
        finally
        {
            _sleepSets?.End();
            _sleepSets = null;
            _continuations = false;
            _resumeNext = null;
            _allDone = null;
            _strategy = null;
            _tasks = [];
            Current = _main;
        }
        var error = tasks.FirstOrDefault(t => t.Error is not null)?.Error;
        if (error is not null) throw new InvalidOperationException($"simulated kernel path failed: {error.Message}", error);
    }

    /// <summary>A switching run with an OS thread per task, one of them the caller's, passing a baton.</summary>
    private void RunOnThreads(IReadOnlyList<SimTask> tasks, IScheduleStrategy strategy)
    {
        _remaining = tasks.Count;
        var allDone = new Baton();
        _allDone = allDone;
        // Every thread of the run on the caller's CPU: a hand-off is then a yield, not a wake-up on another CPU. Or, if
        // the caller holds CPUs enough to spread the run (CpuAffinity.HoldSpread), each task's thread on a CPU of its own.
        var spread = CpuAffinity.Spread is { } cpus && cpus.Length >= tasks.Count ? cpus : null;
        using var pinned = spread is null ? CpuAffinity.Hold() : null;
        int cpu = CpuAffinity.PinnedCpu, nextSpread = 1;
        // The caller's thread runs a task too, and waits as the run's other threads do (not spinning for a thread on its CPU).
        if (spread is null) CpuAffinity.Pin(cpu);
        else CpuAffinity.PinSpinning(cpu);
        // The strategy's first decision is made before any thread exists, so a failing strategy leaves none behind.
        strategy.Start(tasks);
        var first = Choose(CollectRunnable(), tasks[0])!; // nothing is asleep before the first step
        foreach (var task in tasks)
        {
            if (task == first) continue;
            int taskCpu = spread is null ? cpu : spread[nextSpread++];
            SimWorkers.Start(() =>
            {
                if (spread is null) CpuAffinity.Pin(taskCpu);
                else CpuAffinity.PinSpinning(taskCpu);
                ThreadMain(task);
            }, taskCpu);
        }
        // The caller's thread runs the task that goes first itself: no hand-off to start the run.
        Give(first);
        ThreadMain(first);
        allDone.Wait();
    }

    /// <summary>
    /// One task's OS thread: wait for the baton, run the body (or skip it if the run is aborting), then pass the
    /// baton on. Everything that can throw is caught here so that the baton is always passed and the run ends.
    /// </summary>
    private void ThreadMain(SimTask task)
    {
        task.Baton.Wait();
        try
        {
            if (!_aborting)
            {
                task.Started = true;
                task.Body();
            }
        }
        catch (Exception e) { Failed(task, e); }
        Finished(task);
        if (Interlocked.Decrement(ref _remaining) == 0) _allDone!.Release();
    }

    /// <summary>A task's body threw: an abort unwinding it, or a failure that aborts the run.</summary>
    private void Failed(SimTask task, Exception e)
    {
        if (e is SimAbortException) return;
        task.Error = e;
        _aborting = true;
    }

    /// <summary>A task's body has returned (or was skipped by an abort): it is done, and the baton goes on.</summary>
    private void Finished(SimTask task)
    {
        task.Done = true;
        if (!_aborting) _sleepSets?.Stepped(task);
        PassBaton(task);
    }

    /// <summary>
    /// A switching run as continuations on this thread: the strategy's first pick is launched; from then on whoever a
    /// switch or a finished task hands the baton to (<see cref="Give"/>) is resumed, or launched, once the path that
    /// handed it over has parked (returned to this loop).
    /// </summary>
    private void RunContinuations(IReadOnlyList<SimTask> tasks, IScheduleStrategy strategy)
    {
        ContinuationRuns++;
        strategy.Start(tasks);
        Give(Choose(CollectRunnable(), tasks[0])!); // nothing is asleep before the first step
        while (_resumeNext is { } task)
        {
            _resumeNext = null;
            if (!task.Resume()) Launch(task);
        }
        if (tasks.FirstOrDefault(t => !t.Done) is { } stuck)
            throw new InvalidOperationException($"continuation run ended with {stuck.Name} neither done nor parked");
    }

    /// <summary>A continuation run's <see cref="ThreadMain"/>: start the task's async body; it ends now or when it completes.</summary>
    private void Launch(SimTask task)
    {
        ValueTask body;
        try
        {
            if (_aborting)
            {
                Finished(task);
                return;
            }
            task.Started = true;
            body = task.AsyncBody!();
        }
        catch (Exception e)
        {
            Failed(task, e);
            Finished(task);
            return;
        }
        if (body.IsCompleted) Ended(task, body);
        else body.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => Ended(task, body));
    }

    private void Ended(SimTask task, ValueTask body)
    {
        try { body.GetAwaiter().GetResult(); }
        catch (Exception e) { Failed(task, e); }
        Finished(task);
    }

    /// <summary>
    /// A finished task hands the baton on: to the strategy's pick among the runnable tasks; if every unfinished
    /// task is blocked, to the first of them, which lets time pass or aborts the run as a deadlock (<see cref="WaitUntil"/>). While aborting, the unfinished tasks are woken one at a
    /// time, in list order, each unwinding alone before it passes the baton on, so abort keeps the one-runner rule.
    /// </summary>
    private void PassBaton(SimTask finished)
    {
        if (!_aborting)
        {
            try
            {
                var runnable = CollectRunnable();
                if (runnable.Count > 0 && Choose(runnable, finished) is { } next)
                {
                    Give(next);
                    return;
                }
                if (runnable.Count > 0) _pruned = true;
                else if (_tasks.All(t => t.Done)) return;
                else
                {
                    // Every task left is blocked: the first one lets time pass (WaitUntil), or finds the deadlock.
                    Give(_tasks.First(t => !t.Done));
                    return;
                }
            }
            catch (Exception e)
            {
                finished.Error ??= e;
            }
            _aborting = true;
        }
        foreach (var t in _tasks)
        {
            if (t.Done) continue;
            Give(t);
            return;
        }
    }

    /// <summary>
    /// Partial-order reduction found that every path that could run next is asleep: whatever this run does from here, an
    /// equivalent run was explored. The run is aborted and not counted.
    /// </summary>
    private SimAbortException Prune()
    {
        _pruned = true;
        _aborting = true;
        return new SimAbortException();
    }

    private void Abort(string why)
    {
        _deadlock ??= why;
        _aborting = true;
        throw new SimAbortException();
    }

    private string DeadlockMessage() =>
        $"deadlock: every CPU is blocked ({string.Join(", ", _tasks.Where(t => !t.Done).Select(t => $"{t.Name} on {t.WaitingOn}"))})";

    /// <summary>Make <paramref name="to"/> the running task and wake its thread (or, as continuations, resume it next).</summary>
    private void Give(SimTask to)
    {
        Dispatch(to);
        if (_continuations) _resumeNext = to;
        else to.Baton.Release();
    }

    /// <summary>
    /// The running path lets <paramref name="to"/> run and waits to be given the baton back. As continuations only a twin
    /// can wait (<see cref="SwitchToAsync"/>): a path without one ends the run, which its caller runs again on threads.
    /// </summary>
    [Preemptible]
    private void SwitchTo(SimTask from, SimTask to)
    {
        if (_continuations)
        {
            _needsThreads = true;
            _aborting = true;
            throw new SimAbortException();
        }
        Give(to);
        from.Baton.Wait();
        if (_aborting) throw new SimAbortException();
    }

    /// <summary><see cref="SwitchTo"/> as continuations: <paramref name="from"/> parks until it is given the baton back.</summary>
    private ValueTask SwitchToAsync(SimTask from, SimTask to)
    {
        Give(to);
        return new ValueTask(_parking ??= new Parking(this), (short)from.Id);
    }

    [NotState("made once, holds nothing between runs")]
    private Parking? _parking;

    /// <summary>
    /// What a parked path awaits (the token is its task id): never complete at once; its continuation is kept on the task
    /// for the run loop, and when resumed the path goes on, or unwinds if the run is being aborted.
    /// </summary>
    private sealed class Parking(Scheduler scheduler) : IValueTaskSource
    {
        public ValueTaskSourceStatus GetStatus(short token) => ValueTaskSourceStatus.Pending;

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            SimTask.WithId(scheduler._tasks, token)!.Park(continuation, state);

        public void GetResult(short token)
        {
            if (scheduler._aborting) throw new SimAbortException();
        }
    }

    /// <summary>Put <paramref name="task"/> on its CPU: it becomes current with a fresh timeslice.</summary>
    private void Dispatch(SimTask task)
    {
        Current = task;
        task.SliceStartNs = _nowNs;
    }

    /// <summary>The strategy's pick; null when partial-order reduction prunes the run here.</summary>
    private SimTask? Choose(List<SimTask> runnable, SimTask current)
    {
        var next = _strategy!.Pick(runnable, current, _step);
        if (next is null) return null;
        if (next != current && current.Started && !current.Done && runnable.Contains(current)) _preemptions.Add(_choices.Count);
        _choices.Add(next.Id);
        return next;
    }

    private List<SimTask> CollectRunnable()
    {
        _runnable.Clear();
        for (int i = 0; i < _tasks.Length; i++)
            if (_tasks[i].Runnable) _runnable.Add(_tasks[i]);
        return _runnable;
    }
}
