using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Virtio;

/// <summary>Registers the virtio balloon driver (drivers/virtio/virtio_balloon.c) with a version's page release.</summary>
internal static class VirtioServiceCollectionExtensions
{
    /// <summary>
    /// The driver with <paramref name="fillLeak"/>'s fill_balloon / leak_balloon, <paramref name="release"/>'s page release, <paramref name="oomNotifier"/>'s OOM notifier (none
    /// before v3.19), <paramref name="stats"/>'s update_balloon_stats, and the free page reporting device when
    /// <paramref name="freePageReporting"/> (with 6.1's mm/page_reporting.c, whose version the options have checked), and
    /// free page hinting when <paramref name="freePageHint"/> (6.1's driver, checked likewise).
    /// </summary>
    public static IServiceCollection AddVirtioBalloon(this IServiceCollection services, PartVersion fillLeak, PartVersion release, PartVersion oomNotifier,
        PartVersion stats, bool freePageReporting, bool freePageHint)
    {
        _ = fillLeak switch
        {
            PartVersion.V3_16 => services.AddSingleton<IDriverFillLeak, V3_16.FillUnderBalloonLock>(),
            PartVersion.V4_8 => services.AddSingleton<IDriverFillLeak, V4_8.LeakNoMoreThanTaken>(),
            PartVersion.V6_1 => services.AddSingleton<IDriverFillLeak, V6_1.AllocBeforeBalloonLock>(),
            _ => throw new ArgumentException($"driver fill/leak: no implementation of version {fillLeak.Display()}", nameof(fillLeak)),
        };
        _ = release switch
        {
            PartVersion.V3_16 => services.AddSingleton<IDriverRelease, V3_16.BalloonPageFreeAfterUnlock>(),
            PartVersion.V3_18 => services.AddSingleton<IDriverRelease, V3_18.PutPageAfterUnlock>(),
            PartVersion.V4_5 => services.AddSingleton<IDriverRelease, V4_5.PutPageUnderLock>(),
            _ => throw new ArgumentException($"driver release: no implementation of version {release.Display()}", nameof(release)),
        };
        _ = oomNotifier switch
        {
            PartVersion.None => services,
            PartVersion.V4_5 => services.AddSingleton<IBalloonOomNotifier, V4_5.VirtballoonOomNotify>(),
            PartVersion.V6_1 => services.AddSingleton<IBalloonOomNotifier, V6_1.VirtioBalloonOomNotify>(),
            _ => throw new ArgumentException($"OOM notifier: no implementation of version {oomNotifier.Display()}", nameof(oomNotifier)),
        };
        _ = stats switch
        {
            PartVersion.V3_16 => services.AddSingleton<IBalloonStats, V3_16.BalloonStatsV3_16>(),
            PartVersion.V4_8 => services.AddSingleton<IBalloonStats, V4_8.BalloonStatsV4_8>(),
            PartVersion.V6_1 => services.AddSingleton<IBalloonStats, V6_1.BalloonStatsV6_1>(),
            _ => throw new ArgumentException($"balloon stats: no implementation of version {stats.Display()}", nameof(stats)),
        };
        // VIRTIO_BALLOON_F_REPORTING negotiated (SimulationOptions allows it only where the page allocator has page_reporting).
        if (freePageReporting)
        {
            services.AddSingleton<PageAlloc.V6_1.PageReporting>();
            services.AddSingleton<V6_1.FreePageReport>();
        }
        // VIRTIO_BALLOON_F_FREE_PAGE_HINT negotiated (SimulationOptions allows it only with 6.1's driver).
        if (freePageHint) services.AddSingleton<V6_1.FreePageHint>();
        services.AddSingleton<VirtioBalloon>();
        services.AddSingleton<IVirtioBalloon>(sp => sp.GetRequiredService<VirtioBalloon>());
        return services;
    }
}
