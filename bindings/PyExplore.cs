using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Bindings;

/// <summary>Race exploration for Python: the presets, the strategies, and the operations races are written in.</summary>
public static class PyExplore
{
    /// <summary>Every preset race (<see cref="PyRace.Preset"/>).</summary>
    public static string[] Scenarios() => [.. Explorer.Presets];

    public static string[] MetricNames() => [.. ScheduleRun.MetricNames];

    public static string[] Strategies() => [.. ExploreRequest.Strategies];

    /// <summary>A counter for <see cref="PyRace.Explore"/> to count schedules into while it runs (a progress bar polls it).</summary>
    public static ExploreProgress Progress() => new();

    /// <summary>Partial-order reduction for this process (<see cref="PartialOrderReduction.Enable"/>); whether it is on.</summary>
    public static bool EnablePartialOrderReduction() => PartialOrderReduction.Enable();

    /// <summary>The operation kinds (<c>bs.op.&lt;kind&gt;</c>), what each does, and its parameters.</summary>
    public static string[] OpKinds() => RaceOps.Names;
    public static string OpHelp(string kind) => RaceOps.Find("kind", kind).Help;
    public static OpParam[] OpParams(string kind) => RaceOps.Find("kind", kind).Params;
}

/// <summary>An exploration chunk's outcome in plain fields; every failing schedule as parallel arrays.</summary>
public sealed class PyExploreResult(ExploreResult result)
{
    public int Schedules { get; } = result.Schedules;
    public int Failing { get; } = result.Failing;
    public string[] FailingKinds { get; } = result.FailingByKind.Keys.ToArray();
    public int[] FailingKindCounts { get; } = result.FailingByKind.Values.ToArray();
    public int[] FailingIndices { get; } = result.FailingIndices.ToArray();
    public bool Exhausted { get; } = result.Exhausted;
    /// <summary>DFS: schedules left within the bound when it stopped, at least (0 if exhausted); -1 for other strategies.</summary>
    public long SchedulesLeft { get; } = result.SchedulesLeft ?? -1;
    public string Reduction { get; } = result.Reduction;
    public long PrunedRuns { get; } = result.PrunedRuns;
    public long SkippedOptions { get; } = result.SkippedOptions;
    public PyScheduleRun? FirstFailure { get; } = result.FirstFailure is null ? null : new PyScheduleRun(result.FirstFailure);
    /// <summary>Per failing schedule (in <see cref="FailingIndices"/> order): its preemptions, signature and report kinds.</summary>
    public int[] FailurePreemptions { get; } = result.Failures.Select(f => f.Preemptions).ToArray();
    public string[] FailureSignatures { get; } = result.Failures.Select(f => f.Signature).ToArray();
    public string[] FailureKinds { get; } = result.Failures.Select(f => string.Join(",", f.Kinds)).ToArray();
    /// <summary>Their decisions as runs (<see cref="FailureRecord.ChoiceRuns"/>), all concatenated, and how many numbers each has.</summary>
    public int[] FailureChoiceRuns { get; } = result.Failures.SelectMany(f => f.ChoiceRuns).ToArray();
    public int[] FailureChoiceRunCounts { get; } = result.Failures.Select(f => f.ChoiceRuns.Length).ToArray();
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
    public int Preemptions { get; } = run.Preemptions;
    public string Signature { get; } = run.Signature;
    public PyScheduleRun Replay() => new(run.Replay());
}
