namespace BalloonScript.Engine.Sched;

/// <summary>
/// A recorded schedule with one preemption taken out: the recorded choices are followed, except that at decision
/// <paramref name="skip"/> the running task goes on; from there each recorded choice is followed while that task can
/// run, and otherwise the running task goes on (or the first runnable one). What schedule minimisation tries.
/// </summary>
internal sealed class GuidedStrategy(IReadOnlyList<int> choices, int skip) : IScheduleStrategy
{
    private int _next;

    public void Start(IReadOnlyList<SimTask> tasks) => _next = 0;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        int decision = _next++;
        bool currentGoesOn = current.Started && runnable.Contains(current);
        if (decision == skip && currentGoesOn) return current;
        if (decision < choices.Count && SimTask.WithId(runnable, choices[decision]) is { } chosen) return chosen;
        return currentGoesOn ? current : runnable[0];
    }
}
