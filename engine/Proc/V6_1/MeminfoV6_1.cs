using System.Text;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Proc.V6_1;

/// <summary>
/// 6.1's /proc/meminfo (fs/proc/meminfo.c, read in 6.1.78, Natsume324/MagicPad2_OS9.0_Kernel, less its vendor lines)
/// of Debian 12's x86-64 build (CONFIG_ZSWAP, CONFIG_MEMORY_FAILURE, CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_CMA; no
/// HIGHMEM, no shadow call stack): MemAvailable is si_mem_available (totalreserve_pages, the boosted low watermarks),
/// the zswap, KReclaimable, SecPageTables, Percpu, file and shmem THP and CMA lines (nothing here uses zswap, shmem,
/// file THPs or CMA: 0), VmallocChunk always 0 (since 5.3), and hugetlb_report_meminfo's Hugetlb line.
/// </summary>
internal sealed class MeminfoV6_1(Node node, VmStat vmstat, SwapArea swap, ProcessTable processes) : Meminfo(node, vmstat, swap, processes)
{
    public override string Text()
    {
        var sb = new StringBuilder();
        Head(sb, Node.SiMemAvailable(lowWmarkWithBoost: true));
        Kb(sb, "Zswap:", 0);
        Kb(sb, "Zswapped:", 0);
        PageStates(sb);
        Pages(sb, "KReclaimable:", Global(ZoneStat.NrSlabReclaimable)); // + NR_KERNEL_MISC_RECLAIMABLE, 0 here
        Slab(sb);
        Kb(sb, "KernelStack:", Global(ZoneStat.NrKernelStack)); // NR_KERNEL_STACK_KB
        Pages(sb, "PageTables:", Global(ZoneStat.NrPageTablePages));
        Pages(sb, "SecPageTables:", 0);
        CommitAndVmalloc(sb, 0);
        Pages(sb, "Percpu:", 0);
        CorruptedAndAnonHuge(sb);
        foreach (string label in new[] { "ShmemHugePages:", "ShmemPmdMapped:", "FileHugePages:", "FilePmdMapped:", "CmaTotal:", "CmaFree:" })
            Pages(sb, label, 0);
        HugePages(sb);
        Kb(sb, "Hugetlb:", 0);
        DirectMap(sb);
        return sb.ToString();
    }
}
