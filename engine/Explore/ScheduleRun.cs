using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// One explored schedule: the decisions taken (enough to replay it), the preemption points passed and the
/// findings. <see cref="Replay"/> runs the same race again with the same decisions.
/// </summary>
public sealed class ScheduleRun
{
    internal ScheduleRun(Race race, int index, IReadOnlyList<int> choices, IReadOnlyList<int> preemptions, IReadOnlyList<TraceEntry> trace,
        IReadOnlyList<SanitizerReport> reports, string? deadlock, long[] metricsBefore, long[] metricsAfter, bool interrupted = false)
    {
        Interrupted = interrupted;
        PreemptionDecisions = preemptions;
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

    /// <summary>A run partial-order reduction cut short (an equivalent one was explored): nothing in it counts.</summary>
    internal static ScheduleRun PrunedRun(Race race, int index) => new(race, index, [], [], [], [], null, [], []) { Pruned = true };

    /// <summary>Cut short by partial-order reduction: an exploration does not count it.</summary>
    public bool Pruned { get; private init; }

    /// <summary>Which schedule of the exploration this was (0-based).</summary>
    public int Index { get; }
    public IReadOnlyList<int> Choices { get; }
    /// <summary>Which decisions (indices into <see cref="Choices"/>) preempted a running path that could have gone on.</summary>
    public IReadOnlyList<int> PreemptionDecisions { get; }
    /// <summary>Preemptions in this schedule (what a DFS bound counts).</summary>
    public int Preemptions => PreemptionDecisions.Count;
    public IReadOnlyList<TraceEntry> Trace { get; }
    public IReadOnlyList<SanitizerReport> Reports { get; }
    public string? Deadlock { get; }

    /// <summary>Cancelled part of the way (Ctrl-C): an exploration does not count it.</summary>
    public bool Interrupted { get; }
    public bool Failed => Reports.Count > 0;

    /// <summary>
    /// What failed, for grouping failures: each distinct report as its kind and the two innermost functions of its call
    /// path (<c>list_corruption at balloon_page_dequeue &lt;- leak_balloon</c>), sorted; empty if nothing failed.
    /// </summary>
    public string Signature => string.Join(" | ", Reports
        .Select(r => $"{r.KindName} at {string.Join(" <- ", r.Trace.Reverse().Take(2))}").Distinct().Order(StringComparer.Ordinal));

    /// <summary>Names of <see cref="MetricsBefore"/> / <see cref="MetricsAfter"/>: the scenario's state after it was
    /// prepared and after its kernel paths ran (balloon pages migrated, order-9 blocks, skip bits, ...).</summary>
    public static string[] MetricNames => ScenarioMetrics.Names;
    public long[] MetricsBefore { get; }
    public long[] MetricsAfter { get; }

    /// <summary>How much a metric grew during the run.</summary>
    public long Delta(string metric) => MetricsAfter[Array.IndexOf(ScenarioMetrics.Names, metric)] - MetricsBefore[Array.IndexOf(ScenarioMetrics.Names, metric)];

    /// <summary>This run as schedule <paramref name="index"/> of <paramref name="race"/> (a twin's run, put back in the
    /// serial search's numbering: the twin ran exactly what the race would have).</summary>
    internal ScheduleRun Renumbered(int index, Race? race = null) =>
        new(race ?? Race, index, Choices, PreemptionDecisions, Trace, Reports, Deadlock, MetricsBefore, MetricsAfter, Interrupted);

    /// <summary>The same run again, decision for decision.</summary>
    public ScheduleRun Replay() => Race.Replay(Index, Choices);

    /// <summary>This run as its exploration keeps a failure.</summary>
    public FailureRecord ToRecord() =>
        new(Index, FailureRecord.Runs(Choices), Preemptions, Signature, Reports.Select(r => r.KindName).Distinct().ToArray());
}
