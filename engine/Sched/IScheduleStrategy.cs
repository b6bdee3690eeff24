namespace BalloonScript.Engine.Sched;

/// <summary>
/// Chooses which simulated CPU runs next at a preemption point. Implementations are deterministic
/// functions of their seed and the sequence of calls.
/// </summary>
internal interface IScheduleStrategy
{
    /// <summary>Called once before a run with the tasks about to run.</summary>
    void Start(IReadOnlyList<SimTask> tasks);

    /// <summary>Pick one of <paramref name="runnable"/> (non-empty); <paramref name="current"/> may be
    /// blocked or finished, in which case it is not in the list. Null: end the run here, it is redundant (only a search
    /// with partial-order reduction says so).</summary>
    SimTask? Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step);

    /// <summary>Switches CPUs at most of its decisions (random, round-robin), not at a few (PCT, DFS: their bound); what
    /// makes a run on threads spread over host CPUs pay (Explorer).</summary>
    bool SwitchesOften => false;

    /// <summary>
    /// The run just made is made again from its start (a run as continuations that reached a path without an async twin,
    /// now on threads): put the strategy back where that run's <see cref="Start"/> found it, so that it makes the same
    /// decisions again, and say so. False if it cannot: the run's decisions are then replayed and it decides the rest.
    /// </summary>
    bool Retake() => false;
}
