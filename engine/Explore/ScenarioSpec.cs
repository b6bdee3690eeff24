namespace BalloonScript.Engine.Explore;

/// <summary>A named scenario: what it shows, the guest it needs, and the class that builds it.</summary>
internal sealed record ScenarioSpec(string Name, string Description, long MemoryMib, int Cpus, Type Type);
