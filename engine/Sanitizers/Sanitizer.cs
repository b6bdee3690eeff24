using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// Collects findings. Each report records the reporting CPU, the scheduler step and the simulated call
/// path of the running kernel path, so an interleaving can be read back.
/// </summary>
internal sealed class Sanitizer
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

    public int CountOf(ReportKind kind) => _reports.Count(r => r.Kind == kind);
}
