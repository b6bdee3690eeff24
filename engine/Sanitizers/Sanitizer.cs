using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// Collects findings. Each report records the reporting CPU, the scheduler step and the simulated call
/// path of the running kernel path, so an interleaving can be read back.
/// </summary>
internal sealed class Sanitizer : ISnapshotState
{
    private readonly List<SanitizerReport> _reports = [];
    private readonly Scheduler _scheduler;

    public Sanitizer(Scheduler scheduler) => _scheduler = scheduler;

    public IReadOnlyList<SanitizerReport> Reports => _reports;

    public void Report(ReportKind kind, long pfn, string message)
    {
        var task = _scheduler.Current;
        _reports.Add(new SanitizerReport(kind, pfn, message, task.Path.Snapshot(), task.Cpu, _scheduler.Step));
    }

    /// <summary>The reports so far (immutable records, so the array shares nothing mutable).</summary>
    public object Save() => _reports.ToArray();

    public void Restore(object saved) => AppendOnly.Restore(_reports, (SanitizerReport[])saved);

    public int CountOf(ReportKind kind) => _reports.Count(r => r.Kind == kind);
}
