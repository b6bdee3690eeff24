namespace BalloonScript.Engine.Sched;

/// <summary>
/// How a <see cref="Scheduler.Run"/> ended: normally, with a deadlock described in words, or
/// <paramref name="Interrupted"/> by a fatal signal (Ctrl-C) at a preemption point of a switching run, or
/// <paramref name="Pruned"/> by partial-order reduction (an equivalent run was explored).
/// </summary>
internal sealed record RunOutcome(string? Deadlock, long Steps, bool Interrupted, bool Pruned = false)
{
    public bool Completed => Deadlock is null && !Interrupted && !Pruned;
}
