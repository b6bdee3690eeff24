using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>Task 0 until its trace reaches a point <paramref name="at"/> accepts, then task 1 to its end, then task 0.</summary>
internal sealed class SecondAfterPoint(Scheduler scheduler, string first, Func<string, bool> at) : IScheduleStrategy
{
    private bool _reached;

    public void Start(IReadOnlyList<SimTask> tasks) { }

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        var trace = scheduler.Trace;
        if (!_reached && trace.Count > 0 && trace[^1].Task == first && at(trace[^1].Point)) _reached = true;
        int want = _reached ? 1 : 0;
        return runnable.FirstOrDefault(t => t.Id == want) ?? runnable[0];
    }
}
