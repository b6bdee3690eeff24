using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Migrate;

/// <summary>Registers the migration part (mm/migrate.c) of a kernel version.</summary>
internal static class MigrationServiceCollectionExtensions
{
    public static IServiceCollection AddMigration(this IServiceCollection services, PartVersion version)
    {
        if (version != PartVersion.V3_16)
            throw new ArgumentException($"migration: no implementation of version {version.Display()}", nameof(version));
        services.AddSingleton<V3_16.MigratePageCallbacks>();
        services.AddSingleton<V3_16.Migration>();
        services.AddSingleton<IMigration>(sp => sp.GetRequiredService<V3_16.Migration>());
        return services;
    }
}
