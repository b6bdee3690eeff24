using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Vmstat;

/// <summary>Registers the /proc text of mm/vmstat.c as the kernel of the design's page allocator prints it.</summary>
internal static class VmstatServiceCollectionExtensions
{
    public static IServiceCollection AddProcText(this IServiceCollection services, PartVersion pageAllocator)
    {
        services.AddSingleton<VmStat>();
        _ = pageAllocator switch
        {
            PartVersion.V3_16 => services.AddSingleton<ProcText>(),
            PartVersion.V6_1 => services.AddSingleton<ProcText, V6_1.ProcText>(),
            var v => throw new ArgumentException($"/proc text: no implementation of version {v.Display()}", nameof(pageAllocator)),
        };
        return services;
    }
}
