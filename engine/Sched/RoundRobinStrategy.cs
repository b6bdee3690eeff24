namespace BalloonScript.Engine.Sched;

/// <summary>Switch to the next runnable task (by id order) at every preemption point.</summary>
internal sealed class RoundRobinStrategy : IScheduleStrategy
{
    public void Start(IReadOnlyList<SimTask> tasks) { }

    public bool SwitchesOften => true;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        for (int i = 0; i < runnable.Count; i++)
            if (runnable[i].Id > current.Id) return runnable[i];
        return runnable[0];
    }
}
