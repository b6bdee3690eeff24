namespace BalloonScript.Engine.Explore;

/// <summary>The outcome of exploring many schedules of one race.</summary>
public sealed class ExploreResult
{
    internal ExploreResult(int schedules, IReadOnlyDictionary<string, int> failingByKind, ScheduleRun? firstFailure,
        IReadOnlyList<FailureRecord> failures, bool exhausted = false, long? schedulesLeft = null, string reduction = "none",
        long prunedRuns = 0, long skippedOptions = 0)
    {
        Reduction = reduction;
        PrunedRuns = prunedRuns;
        SkippedOptions = skippedOptions;
        Exhausted = exhausted;
        Schedules = schedules;
        FailingByKind = failingByKind;
        FirstFailure = firstFailure;
        Failures = failures;
        SchedulesLeft = schedulesLeft;
    }

    public int Schedules { get; }
    /// <summary>Schedules whose run produced at least one sanitizer report.</summary>
    public int Failing => Failures.Count;
    /// <summary>For each report kind, in how many schedules it appeared.</summary>
    public IReadOnlyDictionary<string, int> FailingByKind { get; }
    public ScheduleRun? FirstFailure { get; }
    public IReadOnlyList<int> FailingIndices => Failures.Select(f => f.Index).ToArray();
    /// <summary>Every failing schedule, in schedule order.</summary>
    public IReadOnlyList<FailureRecord> Failures { get; }
    /// <summary>DFS only: every schedule within the preemption bound was run (so <see cref="Schedules"/> is all of them).</summary>
    public bool Exhausted { get; }
    /// <summary>
    /// DFS only: how many schedules within the bound were left when the search stopped at its maximum, at least (each
    /// untried choice on the search stack leads to one or more): 0 when exhausted, null for the other strategies.
    /// </summary>
    public long? SchedulesLeft { get; }

    /// <summary>The partial-order reduction the search ran with: <c>none</c> or <c>sleep-sets</c> (dfs only).</summary>
    public string Reduction { get; }

    /// <summary>Reduction: runs cut short because every path that could go on was asleep (not in <see cref="Schedules"/>).</summary>
    public long PrunedRuns { get; }

    /// <summary>Reduction: options of the search never tried because their path was asleep (each a subtree of schedules).</summary>
    public long SkippedOptions { get; }
}
