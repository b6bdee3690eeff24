using BalloonScript.Engine.Explore;

namespace BalloonScript.Bindings;

/// <summary>Race exploration for Python: run schedules in chunks (so Python can show progress) and merge.</summary>
public static class PyExplore
{
    public static string[] Scenarios() => [.. Explorer.Scenarios];

    /// <summary>One run of a scenario, every kernel path run to completion in order.</summary>
    public static PyScheduleRun Run(string scenario, string design, long seed) => new(Explorer.Run(scenario, design, seed));

    public static string[] MetricNames() => [.. ScheduleRun.MetricNames];

    public static string[] Strategies() => [.. ExploreRequest.Strategies];

    /// <summary>Explore schedules [start, start + schedules); cancelling <paramref name="cancel"/> from another thread
    /// (Ctrl-C) ends it early, counting the schedules run so far.</summary>
    public static PyExploreResult Explore(string scenario, string design, string strategy, int schedules, long seed, int start, int depth,
        CancellationToken cancel) =>
        new(Explorer.Explore(scenario, design, strategy, schedules, seed, start, depth, cancel));
}

/// <summary>An exploration chunk's outcome in plain fields.</summary>
public sealed class PyExploreResult(ExploreResult result)
{
    public int Schedules { get; } = result.Schedules;
    public int Failing { get; } = result.Failing;
    public string[] FailingKinds { get; } = result.FailingByKind.Keys.ToArray();
    public int[] FailingKindCounts { get; } = result.FailingByKind.Values.ToArray();
    public int[] FailingIndices { get; } = result.FailingIndices.ToArray();
    public bool Exhausted { get; } = result.Exhausted;
    public PyScheduleRun? FirstFailure { get; } = result.FirstFailure is null ? null : new PyScheduleRun(result.FirstFailure);
}

/// <summary>One schedule: its decisions, its trace as parallel arrays, its findings; Replay() reruns it.</summary>
public sealed class PyScheduleRun(ScheduleRun run)
{
    public int Index { get; } = run.Index;
    public int[] Choices { get; } = run.Choices.ToArray();
    public long[] TraceStep { get; } = run.Trace.Select(t => t.Step).ToArray();
    public int[] TraceCpu { get; } = run.Trace.Select(t => t.Cpu).ToArray();
    public string[] TraceTask { get; } = run.Trace.Select(t => t.Task).ToArray();
    public string[] TracePoint { get; } = run.Trace.Select(t => t.Point).ToArray();
    public PyReport[] Reports { get; } = run.Reports.Select(r => new PyReport(r)).ToArray();
    public string? Deadlock { get; } = run.Deadlock;
    public long[] MetricsBefore { get; } = run.MetricsBefore;
    public long[] MetricsAfter { get; } = run.MetricsAfter;
    public PyScheduleRun Replay() => new(run.Replay());
}
