using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>Registers the page allocator of a kernel version.</summary>
internal static class PageAllocServiceCollectionExtensions
{
    /// <summary>The buddy allocator, its optional per-cpu lists and alloc_pages of <paramref name="version"/>.</summary>
    public static IServiceCollection AddPageAllocator(this IServiceCollection services, PartVersion version, bool perCpuLists)
    {
        if (version != PartVersion.V3_16)
            throw new ArgumentException($"page allocator: no implementation of version {version.Display()}", nameof(version));
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
        // For the callers compaction itself reaches (balloon compaction allocates its pages through alloc_pages).
        services.AddSingleton(sp => new Lazy<IPageAllocator>(sp.GetRequiredService<IPageAllocator>));
        return services;
    }
}
