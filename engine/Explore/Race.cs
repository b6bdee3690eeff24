using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
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

    public Race(Simulation sim, IReadOnlyList<TaskTemplate> tasks, Action finish)
    {
        _sim = sim;
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

    /// <summary>
    /// Schedule <paramref name="index"/> under <paramref name="strategy"/> (null = every path run to completion, in
    /// order) from the prepared state: a deadlock is a vm_bug report; otherwise the race settles and the whole-memory
    /// checks run.
    /// </summary>
    public ScheduleRun Run(int index, IScheduleStrategy? strategy)
    {
        _sim.RestoreUnchecked(_prepared);
        var tasks = new SimTask[Tasks.Count];
        for (int i = 0; i < tasks.Length; i++) tasks[i] = Tasks[i].NewTask();
        var outcome = _scheduler.Run(tasks, strategy);
        var trace = _scheduler.Trace.ToArray();
        var choices = _scheduler.Choices.ToArray();
        var preemptions = _scheduler.Preemptions.ToArray();
        if (outcome.Deadlock is not null) _sanitizer.Report(ReportKind.VmBug, -1, outcome.Deadlock);
        else if (!outcome.Interrupted) _finish();
        var reports = _sanitizer.Reports.Skip(_reportsBefore).ToArray();
        return new ScheduleRun(this, index, choices, preemptions, trace, reports, outcome.Deadlock, _metricsBefore, _metrics.Read(),
            outcome.Interrupted);
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
