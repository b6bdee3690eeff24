using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Explore;

/// <summary>A named scenario: what it shows, the guest it needs, and the class that prepares it (an <see cref="IScenario"/>).</summary>
internal sealed record ScenarioSpec(string Name, string Description, long MemoryMib, int Cpus, Type Type)
{
    /// <summary>The race in <paramref name="design"/>: a fresh guest (seeded with <paramref name="seed"/>) prepared by the scenario.</summary>
    public Race Prepare(KernelDesign design, long seed)
    {
        var sim = Simulation.Create(Options(design, seed));
        var race = new RaceBuilder(sim);
        ((IScenario)Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance(sim.Services, Type)).Prepare(race);
        return race.Build(() => Prepare(design, seed));
    }

    /// <summary>
    /// The scenario's guest. The scenarios place pages at known PFNs and time their races on the v3.16 model as it
    /// was before memory pressure and time were modelled, so they run without per-cpu lists, pagevecs, reclaim or
    /// a scheduler tick (which would move those PFNs and add paths to the interleavings), and the host answers a
    /// kick in its fixed 20 µs whatever the number of PFNs.
    /// </summary>
    public SimulationOptions Options(KernelDesign design, long seed) => new()
    {
        MemoryMib = MemoryMib, Cpus = Cpus, Design = design, Seed = seed,
        PerCpuLists = false, Pagevecs = false, Reclaim = false, TimesliceMs = 0, HostUsPerPage = 0,
    };
}
