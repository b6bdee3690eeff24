using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// A race ready to run: its own simulation, prepared once and snapshotted, and the kernel paths its CPUs run. Each
/// schedule restores the prepared state (instead of booting and preparing a guest again), runs the paths under a
/// strategy and records the decisions, the trace and the findings. Built by <see cref="RaceBuilder"/>.
/// </summary>
internal sealed class Race
{
    private readonly Simulation _sim;
    private readonly SimulationSnapshot _prepared;
    private readonly Scheduler _scheduler;
    private readonly Sanitizer _sanitizer;
    private readonly FatalSignal _signal;
    private readonly ScenarioMetrics _metrics;
    private readonly Action _finish;
    private readonly long[] _metricsBefore;
    private readonly int _reportsBefore;

    private readonly Func<Race> _makeTwin;
    private readonly List<Race> _twins = [];

    public Race(Simulation sim, IReadOnlyList<TaskTemplate> tasks, Action finish, Func<Race> makeTwin)
    {
        _sim = sim;
        _makeTwin = makeTwin;
        Tasks = tasks;
        _finish = finish;
        _scheduler = sim.Services.GetRequiredService<Scheduler>();
        _sanitizer = sim.Services.GetRequiredService<Sanitizer>();
        _signal = sim.Services.GetRequiredService<FatalSignal>();
        _metrics = sim.Services.GetRequiredService<ScenarioMetrics>();
        _prepared = sim.Snapshot();
        _metricsBefore = _metrics.Read();
        _reportsBefore = _sanitizer.Reports.Count;
    }

    /// <summary>The kernel paths, in task-id order (one per CPU).</summary>
    public IReadOnlyList<TaskTemplate> Tasks { get; }

    public SimulationOptions Options => _sim.Options;

    /// <summary>The scheduler of the race's simulation (how its switching runs are made: continuations or threads).</summary>
    public Scheduler Scheduler => _scheduler;

    /// <summary>Its runs under <paramref name="strategy"/> go as continuations on one thread (else on OS threads, one per path).</summary>
    public bool RunsAsContinuations(IScheduleStrategy strategy) => Tasks.All(t => t.AsyncBody is not null) && _scheduler.ContinuationsFor(strategy);

    /// <summary>A race of operations: the simulation it was built from, as it was then (null for a preset, which is rebuilt
    /// from its name).</summary>
    public SimulationSnapshot? Source { get; set; }

    /// <summary>
    /// The <paramref name="i"/>-th twin (from 0): the same race, prepared alike on a simulation of its own, for another
    /// host thread of a search. Built on first use and kept, as the race itself is.
    /// </summary>
    public Race Twin(int i)
    {
        lock (_twins)
        {
            while (_twins.Count <= i) _twins.Add(_makeTwin());
            return _twins[i];
        }
    }

    /// <summary>
    /// Schedule <paramref name="index"/> under <paramref name="strategy"/> (null = every path run to completion, in
    /// order) from the prepared state: a deadlock is a vm_bug report; otherwise the race settles and the whole-memory
    /// checks run. A search that keeps only failing runs passes <paramref name="keepTrace"/> false: a run that fails
    /// keeps its trace anyway, the others do not copy it (a DFS of hundreds of thousands of schedules copied kilobytes each).
    /// </summary>
    public ScheduleRun Run(int index, IScheduleStrategy? strategy, bool keepTrace = true)
    {
        var (outcome, tasks) = RunFromPrepared(strategy, threads: false, carried: null);
        if (outcome.NeedsThreads)
        {
            // Run as continuations, it reached a switch in a path without a twin: the same schedule again on threads, by
            // the strategy put back where the run found it (a DFS, whose reduction the run fed), or with its decisions so
            // far replayed and the strategy (which took them) asked from there on.
            (outcome, _) = strategy!.Retake()
                ? RunFromPrepared(strategy, threads: true, carried: null)
                : RunFromPrepared(new ReplayStrategy(_scheduler.Choices.ToArray(), strategy), threads: true, carried: tasks);
        }
        if (outcome.Pruned) return ScheduleRun.PrunedRun(this, index);
        var trace = keepTrace ? _scheduler.Trace.ToArray() : null;
        var choices = _scheduler.Choices.ToArray();
        var preemptions = _scheduler.Preemptions.ToArray();
        if (outcome.Deadlock is not null) _sanitizer.Report(ReportKind.VmBug, -1, outcome.Deadlock);
        else if (!outcome.Interrupted) _finish();
        var reports = _sanitizer.Reports.Skip(_reportsBefore).ToArray();
        // Settling and the checks run without a strategy, which traces nothing: the trace is still the schedule's.
        trace ??= reports.Length > 0 ? _scheduler.Trace.ToArray() : [];
        return new ScheduleRun(this, index, choices, preemptions, trace, reports, outcome.Deadlock, _metricsBefore, _metrics.Read(),
            outcome.Interrupted);
    }

    /// <summary>
    /// The race's paths from the prepared state under <paramref name="strategy"/>; a run taken up again gets what the
    /// strategy set on the <paramref name="carried"/> tasks of the first attempt (PCT's priorities, as its decisions so
    /// far left them).
    /// </summary>
    private (RunOutcome, SimTask[]) RunFromPrepared(IScheduleStrategy? strategy, bool threads, SimTask[]? carried)
    {
        _sim.RestoreUnchecked(_prepared);
        var tasks = new SimTask[Tasks.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Tasks[i].NewTask();
            if (carried is not null) tasks[i].Priority = carried[i].Priority;
        }
        return (_scheduler.Run(tasks, strategy, threads), tasks);
    }

    /// <summary>The state the last schedule left, settled and checked (equivalent schedules leave the same one).</summary>
    public SimulationSnapshot StateNow() => _sim.Snapshot();

    /// <summary>
    /// Partial-order reduction for a search of this race: while the returned scope lasts, the page arrays and the lists
    /// record each step's accesses in <paramref name="sleepSets"/>' recorder, and so does what reaches it through the
    /// scheduler (locks, the clock, shared arrays, rmap's per-page state, the processes, the host and its RAM block); the rest of the
    /// state is compared whole (every part but those, with the simulated locks' owners and the shared arrays left out:
    /// their accesses are recorded; the vm events, whose counts commute; and what the whole-memory checks last saw).
    /// </summary>
    public IDisposable TrackAccesses(out SleepSets sleepSets)
    {
        var accesses = new StepAccesses();
        var pages = _sim.Services.GetRequiredService<PageTable>();
        var lists = _sim.Services.GetRequiredService<PageLists>();
        // The whole-memory checks run after the schedule, never in a step: their state is not compared either.
        var rest = _sim.Services.GetServices<ISnapshotState>()
            .Where(s => s is not (PageTable or PageLists or RmapPages or Workload.ProcessTable or Host.BalloonHost or Host.RamBlock or Sched.Scheduler
                or VmStat or PageStateCheck or BalloonCheck)).ToArray();
        var locks = _scheduler.Locks;
        var shared = _scheduler.Shared;
        sleepSets = new SleepSets(accesses, () =>
        {
            var owners = new object[locks.Count];
            for (int i = 0; i < owners.Length; i++)
            {
                owners[i] = locks[i].Save();
                locks[i].Restore(-2);
            }
            var values = new long[shared.Count][];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (long[])shared[i].Clone();
                Array.Clear(shared[i]);
            }
            var saved = Array.ConvertAll(rest, s => s.Save());
            for (int i = 0; i < owners.Length; i++) locks[i].Restore(owners[i]);
            for (int i = 0; i < values.Length; i++) values[i].CopyTo(shared[i], 0);
            return saved;
        });
        pages.Track(accesses);
        lists.Track(accesses);
        _scheduler.Accesses = accesses;
        return new Scope(() =>
        {
            pages.Track(null);
            lists.Track(null);
            _scheduler.Accesses = null;
        });
    }

    /// <summary>While the returned scope lasts, cancelling <paramref name="cancel"/> raises the race's fatal signal (Ctrl-C).</summary>
    public IDisposable Cancellable(CancellationToken cancel)
    {
        _signal.Cancel = cancel;
        return new Scope(() => _signal.Cancel = default);
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }

    /// <summary>Schedule <paramref name="index"/> again from its decisions (none: the run to completion).</summary>
    public ScheduleRun Replay(int index, IReadOnlyList<int> choices) =>
        Run(index, choices.Count == 0 ? null : new ReplayStrategy(choices));
}
