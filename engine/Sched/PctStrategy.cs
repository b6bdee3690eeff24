namespace BalloonScript.Engine.Sched;

/// <summary>
/// PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities, always run the highest-priority runnable
/// task, and at d−1 change points chosen uniformly in [1, k] drop the running task's priority below all
/// others. Finds a bug of depth d with probability at least 1/(n·k^(d−1)).
/// </summary>
internal sealed class PctStrategy(long seed, int depth, long expectedSteps) : IScheduleStrategy
{
    private readonly Random _random = new(unchecked((int)(seed ^ (seed >> 32))));
    private readonly HashSet<long> _changePoints = [];
    private int _nextLow;

    public void Start(IReadOnlyList<SimTask> tasks)
    {
        var priorities = Enumerable.Range(depth, tasks.Count).OrderBy(_ => _random.Next()).ToArray();
        for (int i = 0; i < tasks.Count; i++) tasks[i].Priority = priorities[i];
        _changePoints.Clear();
        while (_changePoints.Count < Math.Min(depth - 1, expectedSteps))
            _changePoints.Add(1 + _random.NextInt64(Math.Max(1, expectedSteps)));
        _nextLow = depth - 1;
        _decisions = 0;
    }

    private long _decisions;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        _decisions++;
        if (_changePoints.Contains(_decisions) && _nextLow > 0) current.Priority = _nextLow--;
        var best = runnable[0];
        for (int i = 1; i < runnable.Count; i++)
            if (runnable[i].Priority > best.Priority) best = runnable[i];
        return best;
    }
}
