using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sanitizers;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Balloon;

/// <summary>Registers balloon compaction (mm/balloon_compaction.c) composed of a design's balloon choices.</summary>
internal static class BalloonServiceCollectionExtensions
{
    /// <summary>
    /// balloon_dev_info, the library, the version of each choice <paramref name="parts"/> names (page identity,
    /// dequeue walk, the scanner's isolation test, the migration path — v4.8: balloon_aops on the generic non-LRU
    /// movable page machinery, whose isolation is migration's), and the balloon checks.
    /// </summary>
    public static IServiceCollection AddBalloonCompaction(this IServiceCollection services, DesignParts parts)
    {
        services.AddSingleton<BalloonDevInfo>();
        services.AddSingleton<BalloonListWalk>();
        services.AddSingleton<PageBalloonType>();
        services.AddSingleton<BalloonCompaction>();
        services.AddSingleton<IBalloonCompaction>(sp => sp.GetRequiredService<BalloonCompaction>());
        _ = parts.BalloonIdentity switch
        {
            PartVersion.V3_16 => services.AddBalloonMovability<V3_16.FakeMappingIdentity>(),
            PartVersion.V3_18 => services.AddBalloonMovability<V3_18.PageBalloonIdentity>(),
            PartVersion.V4_8 => services.AddSingleton<IBalloonPageIdentity, V4_8.MovableBalloonIdentity>(),
            var v => throw NoImplementation("balloon identity", v),
        };
        _ = parts.DequeueWalk switch
        {
            PartVersion.V3_16 => services.AddSingleton<IDequeueWalk, V3_16.UnlockedDequeueWalk>(),
            PartVersion.V3_18 => services.AddSingleton<IDequeueWalk, V3_18.SkipIsolatedDequeueWalk>(),
            PartVersion.V4_5 => services.AddSingleton<IDequeueWalk, V4_5.LockedDequeueWalk>(),
            PartVersion.V4_8 => services.AddSingleton<IDequeueWalk, V4_8.PageIsolatedDequeueWalk>(),
            var v => throw NoImplementation("dequeue walk", v),
        };
        _ = parts.ScannerIsolation switch
        {
            PartVersion.V3_16 => services.AddSingleton<IScannerIsolation, V3_16.LruLockedIsolation>(),
            PartVersion.V3_18 => services.AddSingleton<IScannerIsolation, V3_18.LocklessIsolation>(),
            // v4.8: no balloon branch; the migrate scanner isolates through migration's isolate_movable_page.
            PartVersion.V4_8 => services,
            var v => throw NoImplementation("scanner isolation", v),
        };
        _ = parts.BalloonMigration switch
        {
            PartVersion.V3_16 => services.AddSingleton<IBalloonMigrationPath, V3_16.BalloonSuccessMigration>(),
            PartVersion.V3_18 => services.AddSingleton<IBalloonMigrationPath, V3_18.IsolatedBalloonMigration>(),
            PartVersion.Stable2019 => services.AddSingleton<V3_18.IsolatedBalloonMigration>()
                .AddSingleton<IBalloonMigrationPath, Stable2019.SavedIsLruMigration>(),
            // v4.8: no balloon branch in migration; the balloon's a_ops on its inode's mapping.
            PartVersion.V4_8 => services.AddSingleton<V4_8.BalloonAops>(),
            var v => throw NoImplementation("balloon migration", v),
        };
        services.AddSingleton<BalloonCheck>();
        return services;
    }

    /// <summary>
    /// A v3.x balloon identity, which is also the balloon-specific movability that compaction's and migration's balloon
    /// branches test, and the balloon's own isolate/putback/migrate functions built on it.
    /// </summary>
    private static IServiceCollection AddBalloonMovability<T>(this IServiceCollection services)
        where T : class, IBalloonPageIdentity, IBalloonMovability =>
        services.AddSingleton<T>()
            .AddSingleton<IBalloonPageIdentity>(sp => sp.GetRequiredService<T>())
            .AddSingleton<IBalloonMovability>(sp => sp.GetRequiredService<T>())
            .AddSingleton<BalloonPageOps>();

    private static ArgumentException NoImplementation(string part, PartVersion version) =>
        new($"{part}: no implementation of version {version.Display()}", nameof(DesignParts));
}
