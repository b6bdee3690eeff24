using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>Task 0 runs until it has passed <paramref name="point"/>, then task 1 runs while it can.</summary>
internal sealed class SwitchAfterPoint(Scheduler scheduler, string point) : IScheduleStrategy
{
    private bool _switched;

    public void Start(IReadOnlyList<SimTask> tasks) => _switched = false;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        if (!_switched && current.Id == 0 && scheduler.Trace.Count > 0 && scheduler.Trace[^1].Point == point) _switched = true;
        int preferred = _switched ? 1 : 0;
        return runnable.FirstOrDefault(t => t.Id == preferred) ?? runnable[0];
    }
}
