using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BalloonScript.Engine.Compaction;

/// <summary>Registers compaction (mm/compaction.c) composed of a design's versions of it.</summary>
internal static class CompactionServiceCollectionExtensions
{
    /// <summary>
    /// compact_zone and its free scanner, deferral and suitability (<see cref="DesignParts.Compaction"/>), the migrate
    /// scanner (<see cref="DesignParts.MigrateScanner"/>), and the background compaction kswapd asks for
    /// (<see cref="DesignParts.BackgroundCompaction"/>).
    /// </summary>
    public static IServiceCollection AddCompaction(this IServiceCollection services, DesignParts parts)
    {
        switch (parts.Compaction)
        {
            case PartVersion.V3_16:
                services.AddSingleton<V3_16.Deferral>();
                services.AddSingleton<V3_16.CompactLocking>();
                services.AddSingleton<V3_16.FreeScanner>();
                services.AddSingleton<V3_16.Compactor>();
                services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V3_16.Compactor>());
                break;
            case PartVersion.V6_1:
                if (parts.MigrateScanner != PartVersion.V6_1 || parts.BackgroundCompaction != PartVersion.V6_1)
                    throw new ArgumentException("compaction v6.1 works with the v6.1 migrate scanner and background compaction (kcompactd) only", nameof(DesignParts));
                if (parts.Migration is not (PartVersion.V4_8 or PartVersion.V6_1))
                    throw new ArgumentException("compaction v6.1 isolates non-LRU movable pages through isolate_movable_page: migration v4.8 or v6.1", nameof(DesignParts));
                services.AddSingleton<V3_16.Deferral>(); // unchanged in 6.1
                services.AddSingleton<V6_1.CompactLocking>();
                services.AddSingleton<V6_1.PageblockSkip>();
                services.AddSingleton<V6_1.FreeScanner>();
                services.AddSingleton<V6_1.Compactor>();
                services.AddSingleton(sp => new Lazy<V6_1.Compactor>(sp.GetRequiredService<V6_1.Compactor>));
                services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V6_1.Compactor>());
                services.TryAddSingleton(sp => new Lazy<IReclaim>(sp.GetRequiredService<IReclaim>));
                break;
            default:
                throw NoImplementation("compaction", parts.Compaction);
        }
        _ = parts.MigrateScanner switch
        {
            PartVersion.V3_16 => services.AddSingleton<IMigrateScanner, V3_16.MigrateScanner>(),
            PartVersion.V4_8 => services.AddSingleton<IMigrateScanner, V4_8.MigrateScanner>(),
            // Non-LRU movable pages through isolate_movable_page, which migration registers (IMovablePageIsolation).
            PartVersion.V6_1 => services.AddSingleton<V6_1.MigrateScanner>()
                .AddSingleton<IMigrateScanner>(sp => sp.GetRequiredService<V6_1.MigrateScanner>()),
            var v => throw NoImplementation("migrate scanner", v),
        };
        _ = parts.BackgroundCompaction switch
        {
            PartVersion.V3_16 => services.AddSingleton<IBackgroundCompaction, V3_16.KswapdCompactPgdat>(),
            PartVersion.V4_8 => services.AddSingleton<V4_8.Kcompactd>()
                .AddSingleton<IBackgroundCompaction>(sp => sp.GetRequiredService<V4_8.Kcompactd>()),
            PartVersion.V6_1 => services.AddSingleton<V6_1.Kcompactd>()
                .AddSingleton<IBackgroundCompaction>(sp => sp.GetRequiredService<V6_1.Kcompactd>()),
            var v => throw NoImplementation("background compaction", v),
        };
        return services;
    }

    private static ArgumentException NoImplementation(string part, PartVersion version) =>
        new($"{part}: no implementation of version {version.Display()}", nameof(DesignParts));
}
