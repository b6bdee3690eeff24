using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Snapshots;
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
    /// <summary>Register one simulation's services, composed for <paramref name="options"/> (validated first).</summary>
    public static IServiceCollection AddBalloonScript(this IServiceCollection services, SimulationOptions options)
    {
        options.Validate();
        var parts = options.Design.Parts;
        services.AddSingleton(options);
        // Execution model, memory map and the structures every part shares.
        services.AddSingleton<FatalSignal>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<SimClock>();
        // Pressure stall information came in 4.20: of these kernels only 6.1 has it (built, it registers with the scheduler).
        if (parts.Reclaim == Designs.PartVersion.V6_1) services.AddSingleton<Psi>();
        services.AddSingleton<Sanitizer>();
        services.AddSingleton(sp => new PageTable(sp.GetRequiredService<SimulationOptions>().NrPages));
        services.AddSingleton<PageLists>();
        services.AddSingleton<PageLock>();
        services.AddSingleton<PageRefs>();
        services.AddSingleton<MappingTable>();
        services.AddLruLists(parts.LruLists);
        services.AddSingleton<Node>();
        services.AddSingleton<KernelLog>();
        services.AddSingleton<PageContents>();
        if (options.Pagevecs) services.AddSingleton<Pagevecs>();
        services.AddSingleton<Lru>();
        services.AddSingleton<Writeback>();
        services.AddSingleton<PageCache>();
        services.AddSingleton<Filemap>();
        services.AddSwap(parts.Reclaim);
        services.AddSingleton<Reclaim.ZoneReclaimable>();
        services.AddSingleton<Workload.ProcessTable>();
        services.AddSingleton<RmapPages>();
        services.AddSingleton<Rmap>();
        // The kernel parts, each in the version the design names.
        services.AddPageAllocator(parts.PageAllocator, options.PerCpuLists);
        services.AddSingleton(FaultGfp.For(parts.PageAllocator));
        services.AddReclaim(parts.Reclaim, options.Reclaim);
        services.AddCompaction(parts);
        services.AddMigration(parts.Migration);
        services.AddBalloonCompaction(parts);
        services.AddVirtioBalloon(parts.DriverFillLeak, parts.DriverRelease, parts.OomNotifier, parts.BalloonStats, options.FreePageReporting,
            options.FreePageHint);
        services.AddSingleton<RamBlock>();
        services.AddSingleton<BalloonHost>();
        services.AddSingleton<FreePageHints>();
        services.AddSingleton<LiveMigration>();
        services.AddSingleton<Khugepaged>();
        // Workloads, metrics, checks, and the scenarios' helpers.
        services.AddSingleton<Workload.ReclaimableSlab>();
        services.AddSingleton<Workload.PageTablePages>();
        services.AddSingleton<Workload.Munmap>();
        services.AddSingleton<Workload.Workload>();
        services.AddSingleton<Workload.HighOrderRequests>();
        services.AddProcText(parts);
        services.AddSingleton<Proc.KPageFlags>();
        services.AddSingleton<PageInspector>();
        services.AddSingleton<Workload.SeedStream>();
        services.AddSingleton<PageStateCheck>();
        services.AddTransient<Explore.Scenarios.ScenarioKit>();
        services.AddTransient<Explore.ScenarioMetrics>();
        services.AddSingleton<History>();
        services.AddSnapshotStates();
        services.AddSingleton<SimulationParts>();
        // Simulation is public but its constructor is internal, so DI builds it through this factory.
        services.AddSingleton(sp => new Simulation(sp.GetRequiredService<SimulationParts>()));
        return services;
    }

    /// <summary>Build the container of one simulation, every registration checked to resolve first (ValidateOnBuild).</summary>
    internal static ServiceProvider BuildSimulationProvider(SimulationOptions options) =>
        new ServiceCollection().AddBalloonScript(options).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
}
