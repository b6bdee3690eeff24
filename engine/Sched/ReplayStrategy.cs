namespace BalloonScript.Engine.Sched;

/// <summary>
/// Feeds back the task ids recorded in <see cref="Scheduler.Choices"/>, reproducing a run bit for bit. With
/// <paramref name="then"/>, a run taken up again: after the recorded decisions <paramref name="then"/> decides the rest
/// (a run as continuations that reached a path without an async twin is run again on threads this way; the strategy
/// that took the recorded decisions stands where that run left it, so the run is the one it alone would have made).
/// </summary>
internal sealed class ReplayStrategy(IReadOnlyList<int> choices, IScheduleStrategy? then = null) : IScheduleStrategy
{
    private int _next;

    /// <summary>Replay from the first decision (<c>then</c> was started by the run that recorded them).</summary>
    public void Start(IReadOnlyList<SimTask> tasks) => _next = 0;

    public SimTask? Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        if (_next >= choices.Count)
            return then is not null ? then.Pick(runnable, current, step)
                : throw new InvalidOperationException($"replay diverged: decision {_next} was not recorded");
        int id = choices[_next++];
        return SimTask.WithId(runnable, id)
            ?? throw new InvalidOperationException($"replay diverged at decision {_next - 1}: task {id} is not runnable");
    }
}
