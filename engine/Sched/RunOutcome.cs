namespace BalloonScript.Engine.Sched;

/// <summary>
/// How a <see cref="Scheduler.Run"/> ended: normally, with a deadlock described in words, or
/// <paramref name="Interrupted"/> by a fatal signal (Ctrl-C) at a preemption point of a switching run.
/// </summary>
internal sealed record RunOutcome(string? Deadlock, long Steps, bool Interrupted)
{
    public bool Completed => Deadlock is null && !Interrupted;
}
