namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// An operation bound to one race's simulation: what its CPU runs (<see cref="Run"/>, a kernel path body), what it
/// settles after each schedule (<see cref="Finish"/>), how it is named in traces, and the migration target its set-up
/// took, if any (-1), so a race can aim another CPU at it.
/// </summary>
internal sealed record BoundOp(string Name, Action Run, Action? Finish = null, int Target = -1);
