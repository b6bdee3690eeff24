using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BalloonScript.Engine.Compaction;

/// <summary>Registers the compaction part (mm/compaction.c) of a kernel version.</summary>
internal static class CompactionServiceCollectionExtensions
{
    public static IServiceCollection AddCompaction(this IServiceCollection services, PartVersion version)
    {
        switch (version)
        {
            case PartVersion.V3_16:
                services.AddSingleton<V3_16.Deferral>();
                services.AddSingleton<V3_16.CompactLocking>();
                services.AddSingleton<V3_16.MigrateScanner>();
                services.AddSingleton<V3_16.FreeScanner>();
                services.AddSingleton<V3_16.Compactor>();
                services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V3_16.Compactor>());
                break;
            case PartVersion.V6_1:
                services.AddSingleton<V3_16.Deferral>(); // unchanged in 6.1
                services.AddSingleton<V6_1.CompactLocking>();
                services.AddSingleton<V6_1.PageblockSkip>();
                services.AddSingleton<V6_1.MigrateScanner>();
                services.AddSingleton<V6_1.FreeScanner>();
                services.AddSingleton<V6_1.Kcompactd>();
                services.AddSingleton<V6_1.Compactor>();
                services.AddSingleton(sp => new Lazy<V6_1.Compactor>(sp.GetRequiredService<V6_1.Compactor>));
                services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V6_1.Compactor>());
                services.TryAddSingleton(sp => new Lazy<IReclaim>(sp.GetRequiredService<IReclaim>));
                // isolate_movable_page: until a v6.1 balloon (balloon_mops) and migration exist, the design's balloon
                // isolation behind the generic non-LRU movable page seam.
                services.AddSingleton<IMovablePageIsolation, Balloon.ScannerIsolationMovablePage>();
                break;
            default:
                throw new ArgumentException($"compaction: no implementation of version {version.Display()}", nameof(version));
        }
        return services;
    }
}
