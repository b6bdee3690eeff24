using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// One explored schedule: the decisions taken (enough to replay it), the preemption points passed and the
/// findings. <see cref="Replay"/> runs the same scenario again with the same decisions.
/// </summary>
public sealed class ScheduleRun
{
    internal ScheduleRun(ExploreRequest request, int index, IReadOnlyList<int> choices, IReadOnlyList<TraceEntry> trace,
        IReadOnlyList<SanitizerReport> reports, string? deadlock)
    {
        Request = request;
        Index = index;
        Choices = choices;
        Trace = trace;
        Reports = reports;
        Deadlock = deadlock;
    }

    internal ExploreRequest Request { get; }

    /// <summary>Which schedule of the exploration this was (0-based).</summary>
    public int Index { get; }
    public IReadOnlyList<int> Choices { get; }
    public IReadOnlyList<TraceEntry> Trace { get; }
    public IReadOnlyList<SanitizerReport> Reports { get; }
    public string? Deadlock { get; }
    public bool Failed => Reports.Count > 0;

    /// <summary>The same run again, decision for decision.</summary>
    public ScheduleRun Replay() => Explorer.RunOne(Request, Index, new ReplayStrategy(Choices));
}
