namespace BalloonScript.Engine.Sched;

/// <summary>Unwinds a simulated kernel path when its run is aborted (deadlock, or another task's failure).</summary>
internal sealed class SimAbortException() : Exception("simulated run aborted");
