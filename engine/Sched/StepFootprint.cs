namespace BalloonScript.Engine.Sched;

/// <summary>
/// One step's accesses (<see cref="StepAccesses"/>): the nodes read and written and the shared values added to, each sorted
/// and distinct, and whether the step is ordered against every other step.
/// </summary>
internal sealed record StepFootprint(long[] Reads, long[] Writes, long[] Adds, bool Global);
