using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Explore;

/// <summary>A named scenario: what it shows, the guest it needs, and the class that prepares it (an <see cref="IScenario"/>).</summary>
internal sealed record ScenarioSpec(string Name, string Description, long MemoryMib, int Cpus, Type Type)
{
    /// <summary>The race in <paramref name="design"/>: a fresh guest (seeded with <paramref name="seed"/>) prepared by the scenario.</summary>
    public Race Prepare(KernelDesign design, long seed)
    {
        var sim = Simulation.Create(new SimulationOptions { MemoryMib = MemoryMib, Cpus = Cpus, Design = design, Seed = seed });
        var race = new RaceBuilder(sim);
        ((IScenario)Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance(sim.Services, Type)).Prepare(race);
        return race.Build();
    }
}
