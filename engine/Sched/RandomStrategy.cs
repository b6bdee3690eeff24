namespace BalloonScript.Engine.Sched;

/// <summary>At every preemption point, any runnable CPU with equal probability (seeded).</summary>
internal sealed class RandomStrategy(long seed) : IScheduleStrategy
{
    private readonly Random _random = new(unchecked((int)(seed ^ (seed >> 32))));

    public void Start(IReadOnlyList<SimTask> tasks) { }

    public bool SwitchesOften => true;

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step) =>
        runnable[_random.Next(runnable.Count)];
}
