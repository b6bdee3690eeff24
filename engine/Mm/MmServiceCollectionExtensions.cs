using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Mm;

/// <summary>Registers the version-dependent parts of the core mm structures.</summary>
internal static class MmServiceCollectionExtensions
{
    /// <summary>The LRU lists of <paramref name="version"/> (<see cref="ILruLists"/>).</summary>
    public static IServiceCollection AddLruLists(this IServiceCollection services, PartVersion version) => version switch
    {
        PartVersion.V3_16 => services.AddSingleton<ILruLists, V3_16.LruListsV3_16>(),
        PartVersion.V4_8 => services.AddSingleton<ILruLists, V4_8.LruListsV4_8>(),
        PartVersion.V6_1 => services.AddSingleton<ILruLists, V6_1.LruListsV6_1>(),
        _ => throw new ArgumentException($"LRU lists: no implementation of version {version.Display()}", nameof(version)),
    };
}
