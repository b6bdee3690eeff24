using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Compaction;

/// <summary>Registers the compaction part (mm/compaction.c) of a kernel version.</summary>
internal static class CompactionServiceCollectionExtensions
{
    public static IServiceCollection AddCompaction(this IServiceCollection services, PartVersion version)
    {
        if (version != PartVersion.V3_16)
            throw new ArgumentException($"compaction: no implementation of version {version.Display()}", nameof(version));
        services.AddSingleton<V3_16.Deferral>();
        services.AddSingleton<V3_16.CompactLocking>();
        services.AddSingleton<V3_16.MigrateScanner>();
        services.AddSingleton<V3_16.FreeScanner>();
        services.AddSingleton<V3_16.Compactor>();
        services.AddSingleton<ICompaction>(sp => sp.GetRequiredService<V3_16.Compactor>());
        return services;
    }
}
