using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Virtio;

/// <summary>Registers the virtio balloon driver (drivers/virtio/virtio_balloon.c) with a version's page release.</summary>
internal static class VirtioServiceCollectionExtensions
{
    public static IServiceCollection AddVirtioBalloon(this IServiceCollection services, PartVersion release)
    {
        _ = release switch
        {
            PartVersion.V3_16 => services.AddSingleton<IDriverRelease, V3_16.BalloonPageFreeAfterUnlock>(),
            PartVersion.V3_18 => services.AddSingleton<IDriverRelease, V3_18.PutPageAfterUnlock>(),
            PartVersion.V4_5 => services.AddSingleton<IDriverRelease, V4_5.PutPageUnderLock>(),
            _ => throw new ArgumentException($"driver release: no implementation of version {release.Display()}", nameof(release)),
        };
        services.AddSingleton<VirtioBalloon>();
        services.AddSingleton<IVirtioBalloon>(sp => sp.GetRequiredService<VirtioBalloon>());
        return services;
    }
}
