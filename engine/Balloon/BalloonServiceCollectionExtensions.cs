using BalloonScript.Engine.Host;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Virtio;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Balloon;

/// <summary>Registrations of the balloon: the one place where a design name picks its class.</summary>
internal static class BalloonServiceCollectionExtensions
{
    /// <summary>balloon_dev_info, the design's library (also as <see cref="IBalloonCompaction"/> for compaction and migration), the virtio driver, the host and the balloon checks.</summary>
    public static IServiceCollection AddBalloon(this IServiceCollection services, string design)
    {
        services.AddSingleton<BalloonDevInfo>();
        _ = design switch
        {
            "legacy" => services.AddSingleton<BalloonCompaction, LegacyBalloon>(),
            "redesign" => services.AddSingleton<BalloonCompaction, RedesignBalloon>(),
            "fixed" => services.AddSingleton<BalloonCompaction, FixedBalloon>(),
            _ => throw new ArgumentException($"design must be one of {string.Join(", ", SimulationOptions.Designs)}, got '{design}'", nameof(design)),
        };
        services.AddSingleton<IBalloonCompaction>(sp => sp.GetRequiredService<BalloonCompaction>());
        services.AddSingleton<BalloonHost>();
        services.AddSingleton<VirtioBalloon>();
        services.AddSingleton<BalloonCheck>();
        return services;
    }
}
