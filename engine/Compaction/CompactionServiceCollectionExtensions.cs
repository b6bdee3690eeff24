using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

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
        if (parts.Compaction != PartVersion.V3_16) throw NoImplementation("compaction", parts.Compaction);
        services.AddSingleton<V3_16.Deferral>();
        services.AddSingleton<V3_16.CompactLocking>();
        services.AddSingleton<V3_16.FreeScanner>();
        services.AddSingleton<V3_16.Compactor>();
        services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V3_16.Compactor>());
        _ = parts.MigrateScanner switch
        {
            PartVersion.V3_16 => services.AddSingleton<IMigrateScanner, V3_16.MigrateScanner>(),
            PartVersion.V4_8 => services.AddSingleton<IMigrateScanner, V4_8.MigrateScanner>(),
            var v => throw NoImplementation("migrate scanner", v),
        };
        _ = parts.BackgroundCompaction switch
        {
            PartVersion.V3_16 => services.AddSingleton<IBackgroundCompaction, V3_16.KswapdCompactPgdat>(),
            PartVersion.V4_8 => services.AddSingleton<V4_8.Kcompactd>()
                .AddSingleton<IBackgroundCompaction>(sp => sp.GetRequiredService<V4_8.Kcompactd>()),
            var v => throw NoImplementation("background compaction", v),
        };
        return services;
    }

    private static ArgumentException NoImplementation(string part, PartVersion version) =>
        new($"{part}: no implementation of version {version.Display()}", nameof(DesignParts));
}
