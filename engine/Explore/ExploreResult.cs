namespace BalloonScript.Engine.Explore;

/// <summary>The outcome of exploring many schedules of one scenario.</summary>
public sealed class ExploreResult
{
    internal ExploreResult(int schedules, int failing, IReadOnlyDictionary<string, int> failingByKind, ScheduleRun? firstFailure, IReadOnlyList<int> failingIndices, bool exhausted = false)
    {
        Exhausted = exhausted;
        Schedules = schedules;
        Failing = failing;
        FailingByKind = failingByKind;
        FirstFailure = firstFailure;
        FailingIndices = failingIndices;
    }

    public int Schedules { get; }
    /// <summary>Schedules whose run produced at least one sanitizer report.</summary>
    public int Failing { get; }
    /// <summary>For each report kind, in how many schedules it appeared.</summary>
    public IReadOnlyDictionary<string, int> FailingByKind { get; }
    public ScheduleRun? FirstFailure { get; }
    public IReadOnlyList<int> FailingIndices { get; }
    /// <summary>DFS only: every schedule within the preemption bound was run (so <see cref="Schedules"/> is all of them).</summary>
    public bool Exhausted { get; }
}
