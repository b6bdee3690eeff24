namespace BalloonScript.Engine.Sched;

/// <summary>
/// The execution model: N simulated CPUs run kernel paths (<see cref="SimTask"/>) one at a time, so a run is
/// deterministic for a given strategy and seed. Kernel code calls <see cref="Preempt"/> at points where the
/// real kernel could be interleaved with another CPU (lock operations, lockless reads that matter), and
/// <see cref="WaitUntil"/> where it would block.
/// <para>
/// Without a strategy (run-to-completion, the default for experiments) tasks run inline one after the other
/// on the caller's thread and a preemption point is a counter increment and a branch. With a strategy each
/// task gets an OS thread, but a baton (one semaphore per task) lets exactly one of them run at any time;
/// the running task itself asks the strategy at each preemption point and hands the baton over directly.
/// </para>
/// </summary>
internal sealed class Scheduler
{
    private readonly SimTask _main = new(-1, 0, "main", () => { });
    private readonly List<SimTask> _runnable = [];
    private readonly List<TraceEntry> _trace = [];
    private readonly List<int> _choices = [];
    private IReadOnlyList<SimTask> _tasks = [];
    private readonly FatalSignal _signal;
    private IScheduleStrategy? _strategy;
    private volatile bool _aborting;
    private bool _interrupted;
    private string? _deadlock;
    private int _remaining;
    private SemaphoreSlim? _allDone;

    public Scheduler(SimulationOptions options, FatalSignal signal)
    {
        _signal = signal;
        Cpus = options.Cpus;
        Current = _main;
    }

    public int Cpus { get; }

    /// <summary>The kernel path running now (a "main" path on CPU 0 outside <see cref="Run"/>).</summary>
    public SimTask Current { get; private set; }

    /// <summary>Preemption points passed since the simulation started.</summary>
    public long Step { get; private set; }

    /// <summary>Preemption points of the last switching run, in order.</summary>
    public IReadOnlyList<TraceEntry> Trace => _trace;

    /// <summary>Task ids chosen at each decision of the last switching run (what a replay feeds back).</summary>
    public IReadOnlyList<int> Choices => _choices;

    /// <summary>True while a strategy may switch CPUs at preemption points.</summary>
    public bool Switching => _strategy is not null;

    /// <summary>
    /// Run <paramref name="tasks"/> until all finish. <paramref name="strategy"/> null = run to completion,
    /// in list order, inline.
    /// </summary>
    public RunOutcome Run(IReadOnlyList<SimTask> tasks, IScheduleStrategy? strategy)
    {
        if (Switching) throw new InvalidOperationException("Scheduler.Run is not reentrant");
        foreach (var t in tasks)
            if (t.Cpu < 0 || t.Cpu >= Cpus)
                throw new ArgumentOutOfRangeException(nameof(tasks), $"task {t.Name} is on cpu {t.Cpu}; cpus are 0..{Cpus - 1}");
        _deadlock = null;
        _aborting = false;
        _interrupted = false;
        long start = Step;
        if (strategy is null || tasks.Count < 2) RunInline(tasks);
        else RunSwitching(tasks, strategy);
        return new RunOutcome(_deadlock, Step - start, _interrupted);
    }

    /// <summary>A preemption point: another CPU may run here (not while a run is being aborted: unwinding
    /// paths run one after another to the end). A switching run with a fatal signal pending (Ctrl-C) is aborted here.</summary>
    public void Preempt(string point)
    {
        Step++;
        if (_strategy is null || _aborting) return;
        if (_signal.Pending)
        {
            _interrupted = true;
            _aborting = true;
            throw new SimAbortException();
        }
        var current = Current;
        _trace.Add(new TraceEntry(Step, current.Cpu, current.Name, point));
        var runnable = CollectRunnable();
        if (runnable.Count < 2) return;
        var next = Choose(runnable, current);
        if (next != current) SwitchTo(current, next);
    }

    /// <summary>
    /// Block the running path until <paramref name="condition"/> holds (a lock it spins or sleeps on).
    /// If no other path can run, the run is a deadlock: it is aborted and <see cref="RunOutcome.Deadlock"/> says why.
    /// A path unwinding from an abort cannot block: it is unwound further.
    /// </summary>
    public void WaitUntil(Func<bool> condition, object waitingOn, string point)
    {
        while (!condition())
        {
            var current = Current;
            if (_aborting) throw new SimAbortException();
            if (_strategy is null) Abort($"{current.Name} on cpu{current.Cpu} blocks on {point} with no other CPU running");
            current.WaitCondition = condition;
            current.WaitingOn = waitingOn;
            Step++;
            _trace.Add(new TraceEntry(Step, current.Cpu, current.Name, "blocked: " + point));
            var runnable = CollectRunnable();
            if (runnable.Count == 0) Abort(DeadlockMessage());
            SwitchTo(current, runnable.Count == 1 ? runnable[0] : Choose(runnable, current));
            current.WaitCondition = null;
            current.WaitingOn = null;
        }
    }

    /// <summary>True if some blocked path waits for <paramref name="lockObject"/> (spin_is_contended).</summary>
    public bool AnyWaitingOn(object lockObject)
    {
        foreach (var t in _tasks)
            if (!t.Done && ReferenceEquals(t.WaitingOn, lockObject)) return true;
        return false;
    }

    private void RunInline(IReadOnlyList<SimTask> tasks)
    {
        _tasks = tasks;
        try
        {
            foreach (var t in tasks)
            {
                Dispatch(t);
                t.Started = true;
                try { t.Body(); }
                catch (SimAbortException) { break; }
                finally { t.Done = true; }
            }
        }
        finally
        {
            Current = _main;
            _tasks = [];
        }
    }

    private void RunSwitching(IReadOnlyList<SimTask> tasks, IScheduleStrategy strategy)
    {
        _tasks = tasks;
        _strategy = strategy;
        _trace.Clear();
        _choices.Clear();
        _remaining = tasks.Count;
        using var allDone = new SemaphoreSlim(0);
        _allDone = allDone;
        try
        {
            // The strategy's first decision is made before any thread exists, so a failing strategy leaves none behind.
            strategy.Start(tasks);
            var first = Choose(CollectRunnable(), tasks[0]);
            foreach (var t in tasks)
            {
                var task = t;
                task.Thread = new Thread(() => ThreadMain(task), 1 << 20) { IsBackground = true, Name = "sim:" + task.Name };
                task.Thread.Start();
            }
            Give(first);
            allDone.Wait();
            foreach (var t in tasks) t.Thread!.Join();
        }
        finally
        {
            _strategy = null;
            _tasks = [];
            _allDone = null;
            Current = _main;
        }
        var error = tasks.FirstOrDefault(t => t.Error is not null)?.Error;
        if (error is not null) throw new InvalidOperationException($"simulated kernel path failed: {error.Message}", error);
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
        catch (SimAbortException) { }
        catch (Exception e)
        {
            task.Error = e;
            _aborting = true;
        }
        task.Done = true;
        PassBaton(task);
        if (Interlocked.Decrement(ref _remaining) == 0) _allDone!.Release();
    }

    /// <summary>
    /// A finished task hands the baton on: to the strategy's pick among the runnable tasks; if every unfinished
    /// task is blocked that is a deadlock and the run aborts. While aborting, the unfinished tasks are woken one at a
    /// time, in list order, each unwinding alone before it passes the baton on, so abort keeps the one-runner rule.
    /// </summary>
    private void PassBaton(SimTask finished)
    {
        if (!_aborting)
        {
            try
            {
                var runnable = CollectRunnable();
                if (runnable.Count > 0)
                {
                    Give(Choose(runnable, finished));
                    return;
                }
                if (_tasks.All(t => t.Done)) return;
                _deadlock ??= DeadlockMessage();
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

    private void Abort(string why)
    {
        _deadlock ??= why;
        _aborting = true;
        throw new SimAbortException();
    }

    private string DeadlockMessage() =>
        $"deadlock: every CPU is blocked ({string.Join(", ", _tasks.Where(t => !t.Done).Select(t => $"{t.Name} on {t.WaitingOn}"))})";

    /// <summary>Make <paramref name="to"/> the running task and wake its thread.</summary>
    private void Give(SimTask to)
    {
        Dispatch(to);
        to.Baton.Release();
    }

    private void SwitchTo(SimTask from, SimTask to)
    {
        Give(to);
        from.Baton.Wait();
        if (_aborting) throw new SimAbortException();
    }

    /// <summary>Put <paramref name="task"/> on its CPU: it becomes current with a fresh timeslice.</summary>
    private void Dispatch(SimTask task)
    {
        Current = task;
        task.SliceStart = Step;
    }

    private SimTask Choose(List<SimTask> runnable, SimTask current)
    {
        var next = _strategy!.Pick(runnable, current, Step);
        _choices.Add(next.Id);
        return next;
    }

    private List<SimTask> CollectRunnable()
    {
        _runnable.Clear();
        foreach (var t in _tasks)
            if (t.Runnable) _runnable.Add(t);
        return _runnable;
    }
}
