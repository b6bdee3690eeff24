using BalloonScript.Engine.Designs;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// Registers the /proc text of mm/vmstat.c, fs/proc/meminfo.c and mm/swapfile.c's /proc/swaps as the kernel of the design's page allocator prints
/// it; on the v3.16 allocator, with v4.8's kcompactd, v4.8's vmstat_text event for it.
/// </summary>
internal static class VmstatServiceCollectionExtensions
{
    public static IServiceCollection AddProcText(this IServiceCollection services, DesignParts parts)
    {
        services.AddSingleton<VmStat>();
        _ = (parts.PageAllocator, parts.BackgroundCompaction) switch
        {
            (PartVersion.V3_16, PartVersion.V4_8) => services.AddSingleton<ProcText, V4_8.ProcText>(),
            (PartVersion.V3_16, _) => services.AddSingleton<ProcText>(),
            (PartVersion.V6_1, _) => services.AddSingleton<ProcText, V6_1.ProcText>(),
            var (v, _) => throw new ArgumentException($"/proc text: no implementation of version {v.Display()}", nameof(parts)),
        };
        if (parts.PageAllocator == PartVersion.V6_1)
        {
            services.AddSingleton<Proc.Meminfo, Proc.V6_1.MeminfoV6_1>();
            services.AddSingleton<Proc.ProcSwaps, Proc.V6_1.ProcSwapsV6_1>();
        }
        else
        {
            services.AddSingleton<Proc.Meminfo, Proc.V3_16.MeminfoV3_16>();
            services.AddSingleton<Proc.ProcSwaps, Proc.V3_16.ProcSwapsV3_16>();
        }
        return services;
    }
}
