using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Reclaim;

/// <summary>Registers the reclaim part (mm/vmscan.c) of a kernel version.</summary>
internal static class ReclaimServiceCollectionExtensions
{
    public static IServiceCollection AddReclaim(this IServiceCollection services, PartVersion version) => version switch
    {
        PartVersion.NotModelled => services.AddSingleton<IReclaim, ReclaimNotModelled>(),
        _ => throw new ArgumentException($"reclaim: no implementation of version {version.Display()}", nameof(version)),
    };
}
