namespace BalloonScript.Engine.Sched;

/// <summary>
/// Partial-order reduction for <see cref="DfsStrategy"/>: sleep sets (Godefroid) restricted to the preempted path, so
/// that the search stays exhaustive within its preemption bound. Where the search preempts path A to run B, having
/// explored A going on first, A's next step (recorded when it ran there) goes to sleep: while B and the others take
/// steps independent of it, any run that lets A take that step is equivalent to one that took it first, already
/// explored; such a run is never started (an asleep option is skipped) or cut short (every path that could run is asleep).
/// <para>
/// Two steps are independent when they commute: neither is <see cref="StepFootprint.Global"/>, no lock is touched by
/// both, no page (field or <c>lru</c> links; list head), shared value or process slot one writes the other reads, writes
/// or adds to, and no value one adds to the other reads (<see cref="StepAccesses"/>); and for the rest of the
/// simulation's state, which nothing records access by access, the asleep step wrote none of it and, where it is
/// skipped, all of it is as it was where the step went to sleep (compared whole, the simulated locks and shared arrays
/// aside). docs/model.md gives the argument.
/// </para>
/// </summary>
internal sealed class SleepSets(StepAccesses accesses, Func<object[]> captureRest)
{
    private sealed record Sleeper(int TaskId, StepFootprint Step, object[] RestAtOrigin);

    private readonly List<Sleeper> _asleep = [];
    private Action<StepFootprint>? _afterNextStep;
    private object[]? _restNow;
    private object[]? _restLast;

    /// <summary>Options of the search never tried because their path was asleep (each a subtree of schedules).</summary>
    public long Skipped { get; set; }

    public void Begin()
    {
        _asleep.Clear();
        _afterNextStep = null;
        _restNow = null;
        accesses.Clear();
        Record();
    }

    public void End()
    {
        accesses.On = false;
        accesses.Clear();
    }

    /// <summary>
    /// The step of <paramref name="task"/> that just ended: a path that ran is awake, and every asleep step it does not
    /// commute with wakes.
    /// </summary>
    public void Stepped(SimTask task)
    {
        _restNow = null;
        _asleep.RemoveAll(s => s.TaskId == task.Id || accesses.Conflicts(s.Step));
        var after = _afterNextStep;
        _afterNextStep = null;
        if (after is null) accesses.Clear();
        else after(accesses.Take());
        Record();
    }

    /// <summary>Call <paramref name="after"/> with the footprint of the step about to be taken, when it ends.</summary>
    public void AfterNextStep(Action<StepFootprint> after)
    {
        _afterNextStep = after;
        Record();
    }

    /// <summary>
    /// Record the next step's accesses only if something will look at them: a step asleep (to wake it) or a step to
    /// keep. Set between steps only.
    /// </summary>
    private void Record() => accesses.On = _asleep.Count > 0 || _afterNextStep is not null;

    /// <summary>
    /// The state outside pages and locks, now (compared whole by <see cref="SameRest"/>). A capture equal to the last one
    /// is dropped for it: the decisions a search keeps a rest for then share one copy while the rest stays the same, where
    /// a long race would otherwise keep thousands.
    /// </summary>
    public object[] Rest()
    {
        if (_restNow is not null) return _restNow;
        var now = captureRest();
        if (_restLast is not null && SameRest(now, _restLast)) now = _restLast;
        return _restNow = _restLast = now;
    }

    public static bool SameRest(object[] a, object[] b) => Snapshots.StateEquality.Equal(a, b);

    /// <summary>
    /// <paramref name="taskId"/>'s next step, <paramref name="step"/>, taken from a state whose rest was
    /// <paramref name="restAtOrigin"/> and writing none of it, is asleep from now on.
    /// </summary>
    public void PutToSleep(int taskId, StepFootprint step, object[] restAtOrigin)
    {
        _asleep.Add(new Sleeper(taskId, step, restAtOrigin));
        Record();
    }

    /// <summary>
    /// Running <paramref name="task"/> next is redundant: its next step is asleep and the rest of the state is what it was
    /// where the step went to sleep.
    /// </summary>
    public bool Blocks(SimTask task)
    {
        foreach (var s in _asleep)
            if (s.TaskId == task.Id) return SameRest(Rest(), s.RestAtOrigin);
        return false;
    }
}
