using System.Text;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Proc.V3_16;

/// <summary>
/// v3.16's /proc/meminfo (fs/proc/meminfo.c, read in TROVON's v3.16 copy) of an x86-64 kernel with
/// CONFIG_MEMORY_FAILURE and CONFIG_TRANSPARENT_HUGEPAGE: MemAvailable as 3.14 introduced it (free pages less the low
/// watermarks, plus the file LRU and the reclaimable slab each less the smaller of half of it and the low watermarks),
/// KernelStack as NR_KERNEL_STACK × THREAD_SIZE (16 KiB), the NFS_Unstable, Bounce and WritebackTmp zone counters,
/// VmallocUsed and VmallocChunk (not modelled: 0), AnonHugePages from NR_ANON_TRANSPARENT_HUGEPAGES. The designs
/// on the v3.16 page allocator print it.
/// </summary>
internal sealed class MeminfoV3_16(Node node, VmStat vmstat, SwapArea swap, ProcessTable processes) : Meminfo(node, vmstat, swap, processes)
{
    public override string Text()
    {
        long wmarkLow = Node.LowWmarks(withBoost: false);
        var sb = new StringBuilder();
        Head(sb, Node.MemAvailable(reserved: wmarkLow, wmarkLow)); // 3.14's estimate keeps the low watermarks back
        PageStates(sb);
        Slab(sb);
        Kb(sb, "KernelStack:", Global(ZoneStat.NrKernelStack) * 16);
        Pages(sb, "PageTables:", Global(ZoneStat.NrPageTablePages));
        CommitAndVmalloc(sb, Global(ZoneStat.NrUnstable));
        CorruptedAndAnonHuge(sb);
        HugePages(sb);
        DirectMap(sb);
        return sb.ToString();
    }
}
