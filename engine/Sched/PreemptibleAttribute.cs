namespace BalloonScript.Engine.Sched;

/// <summary>
/// The method can reach a preemption point (<see cref="Scheduler.Preempt(string)"/>, a simulated lock, a wait). The
/// AsyncTwin source generator (generators/) gives it an async twin, <c>NameAsync</c>, made from the same body with each
/// call of a preemptible method awaited: a switching run that runs its simulated CPUs as continuations on one thread
/// calls the twins, every other run calls the method as written. Its type must be partial.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Parameter, Inherited = false)]
internal sealed class PreemptibleAttribute : Attribute;
