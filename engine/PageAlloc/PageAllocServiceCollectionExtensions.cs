using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>Registers the page allocator of a kernel version, and the migratetype numbering the zones use (its version's).</summary>
internal static class PageAllocServiceCollectionExtensions
{
    /// <summary>The buddy allocator, its optional per-cpu lists and alloc_pages of <paramref name="version"/>.</summary>
    public static IServiceCollection AddPageAllocator(this IServiceCollection services, PartVersion version, bool perCpuLists)
    {
        switch (version)
        {
            case PartVersion.V3_16:
                services.AddSingleton(Mm.MigrateTypes.V3_16);
                services.AddSingleton<V3_16.BuddyAllocator>();
                services.AddSingleton<IBuddyAllocator>(sp => sp.GetRequiredService<V3_16.BuddyAllocator>());
                // Optional layer: the buddy allocator, alloc_pages and the page-state check take it when it is registered.
                if (perCpuLists)
                {
                    services.AddSingleton<V3_16.PerCpuPagesets>();
                    services.AddSingleton<IPerCpuPages>(sp => sp.GetRequiredService<V3_16.PerCpuPagesets>());
                }
                services.AddSingleton<V3_16.PageAllocator>();
                services.AddSingleton<IPageAllocator>(sp => sp.GetRequiredService<V3_16.PageAllocator>());
                break;
            case PartVersion.V6_1:
                services.AddSingleton(V6_1.MigrateType.Set);
                services.AddSingleton<V6_1.WatermarkBoost>();
                services.AddSingleton<V6_1.BuddyAllocator>();
                services.AddSingleton<IBuddyAllocator>(sp => sp.GetRequiredService<V6_1.BuddyAllocator>());
                if (perCpuLists)
                {
                    services.AddSingleton<V6_1.PerCpuPagesets>();
                    services.AddSingleton<IPerCpuPages>(sp => sp.GetRequiredService<V6_1.PerCpuPagesets>());
                }
                services.AddSingleton<V6_1.PageAllocator>();
                services.AddSingleton<IPageAllocator>(sp => sp.GetRequiredService<V6_1.PageAllocator>());
                // The boost's end wakes kswapd and kcompactd, which reach back to the allocator.
                services.TryAddSingleton(sp => new Lazy<IReclaim>(sp.GetRequiredService<IReclaim>));
                services.TryAddSingleton(sp => new Lazy<Compaction.V6_1.Kcompactd>(sp.GetRequiredService<Compaction.V6_1.Kcompactd>));
                services.TryAddSingleton(sp => new Lazy<Compaction.IMovablePageIsolation>(sp.GetRequiredService<Compaction.IMovablePageIsolation>));
                break;
            default:
                throw new ArgumentException($"page allocator: no implementation of version {version.Display()}", nameof(version));
        }
        // For the callers compaction itself reaches (balloon compaction allocates its pages through alloc_pages).
        services.AddSingleton(sp => new Lazy<IPageAllocator>(sp.GetRequiredService<IPageAllocator>));
        return services;
    }
}
