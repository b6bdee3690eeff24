using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Migrate;

/// <summary>Registers the migration part (mm/migrate.c) of a kernel version.</summary>
internal static class MigrationServiceCollectionExtensions
{
    public static IServiceCollection AddMigration(this IServiceCollection services, PartVersion version)
    {
        services.AddSingleton<MigrationPageLock>();
        switch (version)
        {
            case PartVersion.V3_16:
                services.AddSingleton<V3_16.MigratePageCallbacks>();
                services.AddSingleton<V3_16.Migration>();
                services.AddSingleton<IMigration>(sp => sp.GetRequiredService<V3_16.Migration>());
                break;
            case PartVersion.V4_8:
                services.AddSingleton<V3_16.MigratePageCallbacks, V4_8.MigratePageCallbacks>();
                services.AddSingleton<V4_8.MovablePage>();
                services.AddSingleton<V4_8.MovablePageIsolation>();
                services.AddSingleton<Compaction.IMovablePageIsolation>(sp => sp.GetRequiredService<V4_8.MovablePageIsolation>());
                services.AddSingleton<V4_8.Migration>();
                services.AddSingleton<IMigration>(sp => sp.GetRequiredService<V4_8.Migration>());
                break;
            case PartVersion.V6_1:
                // 6.1 keeps v4.8's non-LRU movable pages, move_to_new_page and putback_movable_pages: v4.8's part serves them.
                services.AddSingleton<V3_16.MigratePageCallbacks, V6_1.MigratePageCallbacks>();
                services.AddSingleton<V4_8.MovablePage>();
                services.AddSingleton<V4_8.MovablePageIsolation>();
                services.AddSingleton<Compaction.IMovablePageIsolation>(sp => sp.GetRequiredService<V4_8.MovablePageIsolation>());
                services.AddSingleton<V4_8.Migration>();
                services.AddSingleton<V6_1.Migration>();
                services.AddSingleton<IMigration>(sp => sp.GetRequiredService<V6_1.Migration>());
                break;
            default:
                throw new ArgumentException($"migration: no implementation of version {version.Display()}", nameof(version));
        }
        return services;
    }
}
