namespace BalloonScript.Engine.Sched;

/// <summary>
/// How a <see cref="Scheduler.Run"/> ended: normally, with a deadlock described in words, or
/// <paramref name="Interrupted"/> by a fatal signal (Ctrl-C) at a preemption point of a switching run, or
/// <paramref name="Pruned"/> by partial-order reduction (an equivalent run was explored), or cut short because it ran
/// as continuations and reached a switch in a path without an async twin (<paramref name="NeedsThreads"/>: its caller
/// runs it again on threads from the same state, as Race.Run does).
/// </summary>
internal sealed record RunOutcome(string? Deadlock, long Steps, bool Interrupted, bool Pruned = false, bool NeedsThreads = false)
{
    public bool Completed => Deadlock is null && !Interrupted && !Pruned && !NeedsThreads;
}
