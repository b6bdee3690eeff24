namespace BalloonScript.Engine.Sched;

/// <summary>Switch to the next runnable task (by id order) at every preemption point.</summary>
internal sealed class RoundRobinStrategy : IScheduleStrategy
{
    public void Start(IReadOnlyList<SimTask> tasks) { }

    public bool SwitchesOften => true;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        foreach (var t in runnable)
            if (t.Id > current.Id) return t;
        return runnable[0];
    }
}
