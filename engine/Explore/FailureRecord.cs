namespace BalloonScript.Engine.Explore;

/// <summary>
/// One failing schedule of an exploration, kept small: which schedule, the decisions that replay it, its preemptions
/// and what failed (<see cref="ScheduleRun.Signature"/>). <see cref="Race.Replay"/> replays it in full.
/// </summary>
public sealed record FailureRecord(int Index, int[] Choices, int Preemptions, string Signature, string[] Kinds);
