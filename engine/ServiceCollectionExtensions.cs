using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine;

/// <summary>The composition root: one container per simulation, built from validated options.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddBalloonScript(this IServiceCollection services, SimulationOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<Scheduler>();
        services.AddSingleton<Sanitizer>();
        services.AddSingleton(sp => new PageTable(sp.GetRequiredService<SimulationOptions>().NrPages));
        services.AddSingleton<PageLists>();
        services.AddSingleton<PageLock>();
        services.AddSingleton<MappingTable>();
        services.AddSingleton<Node>();
        services.AddSingleton<BuddyAllocator>();
        // Optional layer: BuddyAllocator, PageAllocator and PageStateCheck take it when it is registered.
        if (options.PerCpuLists) services.AddSingleton<PerCpuPagesets>();
        services.AddSingleton<Lru>();
        services.AddSingleton<Rmap>();
        services.AddSingleton<MigratePageCallbacks>();
        // Migration and the scanners need an IBalloonCompaction: the balloon design, registered per design.
        services.AddSingleton<Migration>();
        services.AddSingleton<CompactLocking>();
        services.AddSingleton<MigrateScanner>();
        services.AddSingleton<FreeScanner>();
        services.AddSingleton<Compactor>();
        services.AddSingleton<PageAllocator>();
        services.AddSingleton<Workload.HighOrderRequests>();
        services.AddSingleton<VmStat>();
        services.AddSingleton<ProcText>();
        services.AddSingleton<Workload.Workload>();
        services.AddSingleton<PageStateCheck>();
        services.AddTransient<Explore.Scenarios.ScenarioKit>();
        services.AddTransient<Explore.ScenarioMetrics>();
        services.AddBalloon(options.Design);
        // Simulation is public but its collaborators are internal, so it is built by a factory.
        services.AddSingleton(sp => new Simulation(sp.GetRequiredService<SimulationOptions>(), sp.GetRequiredService<PageTable>(),
            sp.GetRequiredService<Node>(), sp.GetRequiredService<BuddyAllocator>(), sp.GetRequiredService<Sanitizer>(),
            sp.GetRequiredService<VmStat>(), sp.GetRequiredService<ProcText>(), sp.GetRequiredService<Workload.Workload>(),
            sp.GetRequiredService<PageStateCheck>(), sp.GetRequiredService<Scheduler>(),
            sp.GetRequiredService<VirtioBalloon>(), sp.GetRequiredService<BalloonHost>(), sp.GetRequiredService<BalloonCheck>(),
            sp.GetRequiredService<Compactor>(), sp.GetRequiredService<Workload.HighOrderRequests>()));
        return services;
    }
}
