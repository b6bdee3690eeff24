using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Reclaim;

/// <summary>Registers the reclaim part (mm/vmscan.c) of a kernel version.</summary>
internal static class ReclaimServiceCollectionExtensions
{
    /// <summary>Reclaim of <paramref name="version"/>, or the stand-in when the simulation leaves reclaim out (<paramref name="modelled"/> false).</summary>
    public static IServiceCollection AddReclaim(this IServiceCollection services, PartVersion version, bool modelled)
    {
        services.AddSingleton<OomNotifyList>(); // the driver registers on it whether or not reclaim is modelled
        services.AddSingleton<ShrinkerList>(); // so does free page hinting's shrinker
        if (!modelled) return services.AddSingleton<IReclaim, ReclaimNotModelled>();
        switch (version)
        {
            case PartVersion.V3_16:
                services.AddSingleton<V3_16.Workingset>();
                services.AddSingleton<Mm.IWorkingset>(sp => sp.GetRequiredService<V3_16.Workingset>());
                services.AddSingleton<V3_16.PageReclaim>();
                services.AddSingleton<V3_16.OomKiller>();
                services.AddSingleton<V3_16.LruShrinker>();
                services.AddSingleton<V3_16.ShrinkSlab>();
                services.AddSingleton<V3_16.DirectReclaim>();
                services.AddSingleton<V3_16.Kswapd>();
                services.AddSingleton<IReclaim, V3_16.ReclaimV3_16>();
                break;
            case PartVersion.V6_1:
                services.AddSingleton<V6_1.FolioReclaim>();
                services.AddSingleton<V6_1.OomKiller>();
                services.AddSingleton<V6_1.NodeReclaimState>();
                services.AddSingleton<V6_1.Workingset>();
                services.AddSingleton<Mm.IWorkingset>(sp => sp.GetRequiredService<V6_1.Workingset>());
                services.AddSingleton<Mm.IReclaimWritebackAccounting>(sp => sp.GetRequiredService<V6_1.NodeReclaimState>());
                services.AddSingleton<V6_1.ShrinkSlab>();
                services.AddSingleton<V6_1.LruvecShrinker>();
                services.AddSingleton<V6_1.DirectReclaim>();
                services.AddSingleton<V6_1.Kswapd>();
                services.AddSingleton<IReclaim, V6_1.ReclaimV6_1>();
                break;
            default:
                throw new ArgumentException($"reclaim: no implementation of version {version.Display()}", nameof(version));
        }
        return services;
    }
}
