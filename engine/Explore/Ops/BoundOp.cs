namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// An operation bound to one race's simulation: what its CPU runs (<see cref="Run"/>, a kernel path body, and
/// <see cref="RunAsync"/>, the same path made of async twins for a run as continuations, or null if it has none), what it
/// settles after each schedule (<see cref="Finish"/>), how it is named in traces, and the migration target its set-up
/// took, if any (-1), so a race can aim another CPU at it.
/// </summary>
internal sealed record BoundOp(string Name, Action Run, Func<ValueTask>? RunAsync, Action? Finish = null, int Target = -1);
