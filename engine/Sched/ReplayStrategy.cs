namespace BalloonScript.Engine.Sched;

/// <summary>Feeds back the task ids recorded in <see cref="Scheduler.Choices"/>, reproducing a run bit for bit.</summary>
internal sealed class ReplayStrategy(IReadOnlyList<int> choices) : IScheduleStrategy
{
    private int _next;

    public void Start(IReadOnlyList<SimTask> tasks) => _next = 0;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        if (_next >= choices.Count)
            throw new InvalidOperationException($"replay diverged: decision {_next} was not recorded");
        int id = choices[_next++];
        foreach (var t in runnable)
            if (t.Id == id) return t;
        throw new InvalidOperationException($"replay diverged at decision {_next - 1}: task {id} is not runnable");
    }
}
