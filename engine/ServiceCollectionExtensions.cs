using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine;

/// <summary>
/// The composition root: one container per simulation, built from validated options. The design's
/// <see cref="Designs.DesignParts"/> row picks the version of each kernel part; each part registers itself in its
/// own folder's extension.
/// </summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Register one simulation's services, composed for <paramref name="options"/> (validated first).
    /// <paramref name="cancel"/> raises the simulation's fatal signal (an exploration's Ctrl-C).
    /// </summary>
    public static IServiceCollection AddBalloonScript(this IServiceCollection services, SimulationOptions options,
        CancellationToken cancel = default)
    {
        options.Validate();
        var parts = options.Design.Parts;
        services.AddSingleton(options);
        // Execution model, memory map and the structures every part shares.
        services.AddSingleton(new FatalSignal(cancel));
        services.AddSingleton<Scheduler>();
        services.AddSingleton<SimClock>();
        services.AddSingleton<Sanitizer>();
        services.AddSingleton(sp => new PageTable(sp.GetRequiredService<SimulationOptions>().NrPages));
        services.AddSingleton<PageLists>();
        services.AddSingleton<PageLock>();
        services.AddSingleton<PageRefs>();
        services.AddSingleton<MappingTable>();
        services.AddSingleton<Node>();
        services.AddSingleton<Lru>();
        services.AddSingleton<Rmap>();
        // The kernel parts, each in the version the design names.
        services.AddPageAllocator(parts.PageAllocator, options.PerCpuLists);
        services.AddReclaim(parts.Reclaim);
        services.AddCompaction(parts.Compaction);
        services.AddMigration(parts.Migration);
        services.AddBalloonCompaction(parts);
        services.AddVirtioBalloon(parts.DriverRelease);
        services.AddSingleton<BalloonHost>();
        // Workloads, metrics, checks, and the scenarios' helpers.
        services.AddSingleton<Workload.Workload>();
        services.AddSingleton<Workload.HighOrderRequests>();
        services.AddSingleton<VmStat>();
        services.AddSingleton<ProcText>();
        services.AddSingleton<PageStateCheck>();
        services.AddTransient<Explore.Scenarios.ScenarioKit>();
        services.AddTransient<Explore.ScenarioMetrics>();
        services.AddSingleton<SimulationParts>();
        // Simulation is public but its constructor is internal, so DI builds it through this factory.
        services.AddSingleton(sp => new Simulation(sp.GetRequiredService<SimulationParts>()));
        return services;
    }

    /// <summary>
    /// Build the container of one simulation; with <paramref name="validate"/> every registration is checked to
    /// resolve first (ValidateOnBuild), as <see cref="Simulation.Create"/> does. Exploration, which builds one
    /// container per schedule of an already-validated composition, skips it and passes its <paramref name="cancel"/>.
    /// </summary>
    internal static ServiceProvider BuildSimulationProvider(SimulationOptions options, bool validate = true, CancellationToken cancel = default) =>
        new ServiceCollection().AddBalloonScript(options, cancel).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = validate });
}
