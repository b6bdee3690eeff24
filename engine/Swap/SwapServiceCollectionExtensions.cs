using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Swap;

/// <summary>Registers the swap area, the swap cache, and the swap-in readahead and slot allocation of the design's reclaim version (swap goes with reclaim).</summary>
internal static class SwapServiceCollectionExtensions
{
    public static IServiceCollection AddSwap(this IServiceCollection services, PartVersion reclaim)
    {
        services.AddSingleton<SwapArea>();
        services.AddSingleton<SwapCache>();
        switch (reclaim)
        {
            case PartVersion.V3_16:
                services.AddSingleton<SwapReadahead, V3_16.SwapinReadahead>();
                services.AddSingleton<ISwapSlots, V3_16.DirectSwapSlots>();
                break;
            case PartVersion.V6_1:
                services.AddSingleton<SwapReadahead, V6_1.SwapClusterReadahead>();
                services.AddSingleton<ISwapSlots, V6_1.SwapSlotsCache>();
                break;
            default:
                throw new ArgumentException($"swap: no readahead of version {reclaim.Display()}", nameof(reclaim));
        }
        return services;
    }
}
