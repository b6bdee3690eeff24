namespace BalloonScript.Engine.Sched;

/// <summary>How a <see cref="Scheduler.Run"/> ended: normally, or with a deadlock described in words.</summary>
internal sealed record RunOutcome(string? Deadlock, long Steps)
{
    public bool Completed => Deadlock is null;
}
