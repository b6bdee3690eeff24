namespace BalloonScript.Engine.Sched;

/// <summary>One preemption point reached in a run: which task ran it on which CPU, and where.</summary>
public readonly record struct TraceEntry(long Step, int Cpu, string Task, string Point);
