using System.Text;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Proc;

/// <summary>
/// /proc/meminfo (fs/proc/meminfo.c <c>meminfo_proc_show</c>, then <c>hugetlb_report_meminfo</c> and x86's
/// <c>arch_report_meminfo</c>) as the design's kernel prints it, from the simulation's counters. What the versions
/// share is here: <c>si_meminfo</c> (MemTotal is <c>totalram_pages</c>, the zones' managed pages, which the balloon
/// lowers without VIRTIO_BALLOON_F_DEFLATE_ON_OOM), <c>si_swapinfo</c>, the LRU sizes, <c>vm_commit_limit</c> and the
/// committed address space. Not modelled, so printed as 0: buffers (no block device's page cache), mlocked and
/// unevictable pages, kernel stacks (no task is modelled), vmalloc and per-cpu memory, hugetlb pages, and the direct
/// mapping's page sizes (the guest's e820 map and the kernel's splits of its direct mapping; DirectMap1G is left out,
/// as for a guest whose CPU model has no 1 GiB pages).
/// </summary>
internal abstract class Meminfo(Node node, VmStat vmstat, SwapArea swap, ProcessTable processes)
{
    /// <summary>VMALLOC_TOTAL &gt;&gt; 10 on x86-64 with 4-level paging: the vmalloc area's 32 TiB less one byte, in kB.</summary>
    protected const long VmallocTotalKb = 34359738367;

    /// <summary>sysctl_overcommit_ratio's default.</summary>
    private const long OvercommitRatio = 50;

    public abstract string Text();

    protected Node Node => node;

    protected long Global(ZoneStat item) => vmstat.Global(item);

    /// <summary>si_meminfo's totalram: totalram_pages, the zones' managed pages.</summary>
    protected long TotalRam => node.Zones.Sum(z => z.ManagedPages);

    /// <summary>si_meminfo's freeram: NR_FREE_PAGES.</summary>
    protected long FreeRam => Global(ZoneStat.NrFreePages);

    /// <summary>total_swapcache_pages: the pages in the swap cache.</summary>
    protected long SwapCached => swap.SwapCachePages();

    /// <summary>Cached: NR_FILE_PAGES less the swap cache and the buffers (none here), at least 0.</summary>
    protected long Cached => Math.Max(0, Global(ZoneStat.NrFilePages) - SwapCached);

    /// <summary>The size of LRU list <paramref name="l"/> (<see cref="Zone.LruInactiveAnon"/> ...).</summary>
    protected long Lru(int l) => Global(ZoneStat.NrInactiveAnon + l);

    /// <summary>vm_commit_limit: totalram_pages (no hugetlb pages) × overcommit_ratio / 100, plus total_swap_pages.</summary>
    protected long CommitLimit => TotalRam * OvercommitRatio / 100 + swap.TotalSwapPages;

    /// <summary>
    /// vm_committed_as: the private writable anonymous memory mapped (each workload process's VMA, VM_ACCOUNT: mmap
    /// accounts it, munmap and exit_mmap give it back), read exactly (the per-CPU counter's drift is not modelled).
    /// </summary>
    protected long Committed => processes.All.Where(p => !p.Exited).Sum(p => p.TotalVm);

    /// <summary>MemTotal to SwapFree, the same lines in both versions but for <paramref name="available"/>'s formula
    /// (SwapTotal and SwapFree: si_swapinfo's total_swap_pages and nr_swap_pages, no swap area being turned off).</summary>
    protected void Head(StringBuilder sb, long available)
    {
        Pages(sb, "MemTotal:", TotalRam);
        Pages(sb, "MemFree:", FreeRam);
        Pages(sb, "MemAvailable:", available);
        Pages(sb, "Buffers:", 0);
        Pages(sb, "Cached:", Cached);
        Pages(sb, "SwapCached:", SwapCached);
        Pages(sb, "Active:", Lru(Zone.LruActiveAnon) + Lru(Zone.LruActiveFile));
        Pages(sb, "Inactive:", Lru(Zone.LruInactiveAnon) + Lru(Zone.LruInactiveFile));
        Pages(sb, "Active(anon):", Lru(Zone.LruActiveAnon));
        Pages(sb, "Inactive(anon):", Lru(Zone.LruInactiveAnon));
        Pages(sb, "Active(file):", Lru(Zone.LruActiveFile));
        Pages(sb, "Inactive(file):", Lru(Zone.LruInactiveFile));
        Pages(sb, "Unevictable:", Global(ZoneStat.NrUnevictable));
        Pages(sb, "Mlocked:", Global(ZoneStat.NrMlock));
        Pages(sb, "SwapTotal:", swap.TotalSwapPages);
        Pages(sb, "SwapFree:", swap.NrSwapPages);
    }

    /// <summary>Dirty, Writeback, AnonPages, Mapped, Shmem.</summary>
    protected void PageStates(StringBuilder sb)
    {
        Pages(sb, "Dirty:", Global(ZoneStat.NrDirty));
        Pages(sb, "Writeback:", Global(ZoneStat.NrWriteback));
        Pages(sb, "AnonPages:", Global(ZoneStat.NrAnonPages));
        Pages(sb, "Mapped:", Global(ZoneStat.NrMapped));
        Pages(sb, "Shmem:", Global(ZoneStat.NrShmem));
    }

    /// <summary>Slab, SReclaimable, SUnreclaim.</summary>
    protected void Slab(StringBuilder sb)
    {
        Pages(sb, "Slab:", Global(ZoneStat.NrSlabReclaimable) + Global(ZoneStat.NrSlabUnreclaimable));
        Pages(sb, "SReclaimable:", Global(ZoneStat.NrSlabReclaimable));
        Pages(sb, "SUnreclaim:", Global(ZoneStat.NrSlabUnreclaimable));
    }

    /// <summary>NFS_Unstable (<paramref name="nfsUnstable"/>), Bounce, WritebackTmp, CommitLimit, Committed_AS and the vmalloc lines (none used).</summary>
    protected void CommitAndVmalloc(StringBuilder sb, long nfsUnstable)
    {
        Pages(sb, "NFS_Unstable:", nfsUnstable);
        Pages(sb, "Bounce:", Global(ZoneStat.NrBounce));
        Pages(sb, "WritebackTmp:", Global(ZoneStat.NrWritebackTemp));
        Pages(sb, "CommitLimit:", CommitLimit);
        Pages(sb, "Committed_AS:", Committed);
        Kb(sb, "VmallocTotal:", VmallocTotalKb);
        Pages(sb, "VmallocUsed:", 0);
        Pages(sb, "VmallocChunk:", 0);
    }

    /// <summary>HardwareCorrupted ("%5lu kB": no page poisoned) and AnonHugePages (huge pages × HPAGE_PMD_NR).</summary>
    protected void CorruptedAndAnonHuge(StringBuilder sb)
    {
        sb.Append("HardwareCorrupted:".PadRight(19)).Append("0".PadLeft(5)).Append(" kB\n");
        Pages(sb, "AnonHugePages:", Global(ZoneStat.NrAnonTransparentHugepages) * 512);
    }

    /// <summary>A line "Label:" in a 16-column field, then the value in kB right-aligned in 8 (show_val_kb, "%8lu kB").</summary>
    protected static void Kb(StringBuilder sb, string label, long kb) => sb.Append(label.PadRight(16)).Append(kb.ToString().PadLeft(8)).Append(" kB\n");

    /// <summary><see cref="Kb"/> of a count of pages (K(x): x &lt;&lt; (PAGE_SHIFT - 10)).</summary>
    protected static void Pages(StringBuilder sb, string label, long pages) => Kb(sb, label, pages * 4);

    /// <summary>hugetlb_report_meminfo's default hstate: no hugetlb pages, 2 MiB ones.</summary>
    protected static void HugePages(StringBuilder sb)
    {
        foreach (string label in new[] { "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:", "HugePages_Surp:" })
            sb.Append(label.PadRight(19)).Append("0".PadLeft(5)).Append('\n');
        Kb(sb, "Hugepagesize:", 2048);
    }

    /// <summary>x86 arch_report_meminfo, without 1 GiB pages: the direct mapping's page sizes (not modelled: 0).</summary>
    protected static void DirectMap(StringBuilder sb)
    {
        Kb(sb, "DirectMap4k:", 0);
        Kb(sb, "DirectMap2M:", 0);
    }
}
