using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// One explored schedule: the decisions taken (enough to replay it), the preemption points passed and the
/// findings. <see cref="Replay"/> runs the same race again with the same decisions.
/// </summary>
public sealed class ScheduleRun
{
    internal ScheduleRun(Race race, int index, IReadOnlyList<int> choices, IReadOnlyList<TraceEntry> trace,
        IReadOnlyList<SanitizerReport> reports, string? deadlock, long[] metricsBefore, long[] metricsAfter)
    {
        MetricsBefore = metricsBefore;
        MetricsAfter = metricsAfter;
        Race = race;
        Index = index;
        Choices = choices;
        Trace = trace;
        Reports = reports;
        Deadlock = deadlock;
    }

    internal Race Race { get; }

    /// <summary>Which schedule of the exploration this was (0-based).</summary>
    public int Index { get; }
    public IReadOnlyList<int> Choices { get; }
    public IReadOnlyList<TraceEntry> Trace { get; }
    public IReadOnlyList<SanitizerReport> Reports { get; }
    public string? Deadlock { get; }
    public bool Failed => Reports.Count > 0;

    /// <summary>Names of <see cref="MetricsBefore"/> / <see cref="MetricsAfter"/>: the scenario's state after it was
    /// prepared and after its kernel paths ran (balloon pages migrated, order-9 blocks, skip bits, ...).</summary>
    public static string[] MetricNames => ScenarioMetrics.Names;
    public long[] MetricsBefore { get; }
    public long[] MetricsAfter { get; }

    /// <summary>How much a metric grew during the run.</summary>
    public long Delta(string metric) => MetricsAfter[Array.IndexOf(ScenarioMetrics.Names, metric)] - MetricsBefore[Array.IndexOf(ScenarioMetrics.Names, metric)];

    /// <summary>The same run again, decision for decision.</summary>
    public ScheduleRun Replay() => Race.Run(Index, Choices.Count == 0 ? null : new ReplayStrategy(Choices));
}
