using System.Text.RegularExpressions;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// /proc/meminfo as each version's fs/proc/meminfo.c prints it (then hugetlb_report_meminfo and x86's
/// arch_report_meminfo): v3.16's lines for the designs on the v3.16 page allocator, 6.1's (Debian 12's build) for v6.1.
/// </summary>
public class MeminfoTests
{
    private static readonly string[] V3_16Lines =
    [
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)",
        "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Dirty",
        "Writeback", "AnonPages", "Mapped", "Shmem", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
        "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
        "VmallocChunk", "HardwareCorrupted", "AnonHugePages", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
        "HugePages_Surp", "Hugepagesize", "DirectMap4k", "DirectMap2M",
    ];

    private static readonly string[] V6_1Lines =
    [
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)",
        "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Zswap",
        "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable",
        "SUnreclaim", "KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
        "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted",
        "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree",
        "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb",
        "DirectMap4k", "DirectMap2M",
    ];

    /// <summary>
    /// Each line's label and value, every line checked against its printf: "Label:" padded to 16 columns and "%8lu kB"
    /// (show_val_kb), "HardwareCorrupted: %5lu kB", and hugetlb's "HugePages_Total:   %5lu" (19 columns, no unit).
    /// </summary>
    private static Dictionary<string, long> Parse(string text, out List<string> labels)
    {
        labels = [];
        var values = new Dictionary<string, long>();
        Assert.That(text, Does.EndWith("\n"));
        foreach (string line in text.TrimEnd('\n').Split('\n'))
        {
            var m = Regex.Match(line, @"^(\S+):\s+(\d+)( kB)?$");
            Assert.That(m.Success, line);
            string label = m.Groups[1].Value, number = m.Groups[2].Value;
            string expected = label.StartsWith("HugePages_") ? $"{label + ":",-19}{number,5}"
                : label == "HardwareCorrupted" ? $"{label + ":",-19}{number,5} kB"
                : $"{label + ":",-16}{number,8} kB";
            Assert.That(line, Is.EqualTo(expected));
            labels.Add(label);
            values[label] = long.Parse(number);
        }
        return values;
    }

    [TestCase("legacy")]
    [TestCase("movable")]
    [TestCase("v6.1")]
    public void Meminfo_HasTheVersionsLinesInItsOrderAndLayout(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        var values = Parse(rig.Sim.Meminfo(), out var labels);
        Assert.That(labels, Is.EqualTo(design == "v6.1" ? V6_1Lines : V3_16Lines));
        Assert.That(values["VmallocTotal"], Is.EqualTo(34359738367));
        Assert.That(values["Hugepagesize"], Is.EqualTo(2048));
    }

    /// <summary>
    /// si_meminfo's counts: MemTotal the zones' managed pages, which fill_balloon lowers without DEFLATE_ON_OOM (and
    /// not with it); MemFree NR_FREE_PAGES; Cached the file pages less the swap cache; the LRU lines; SwapTotal/SwapFree
    /// total_swap_pages and nr_swap_pages; Committed_AS the processes' VM_ACCOUNT mappings (munmap gives them back);
    /// CommitLimit half of MemTotal plus the swap.
    /// </summary>
    [TestCase("legacy", false)]
    [TestCase("fixed", true)]
    [TestCase("v6.1", false)]
    [TestCase("v6.1", true)]
    public void Meminfo_CountsWhatTheSimulationHolds_MemTotalFallsWithTheBalloonWithoutDeflateOnOom(string design, bool deflateOnOom)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Reclaim = true, SwapMib = 16, DeflateOnOom = deflateOnOom });
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);
        rig.Sim.WorkloadAnon(8);
        rig.Sim.WorkloadFile(4);
        rig.Sim.BalloonInflate(16);
        var m = Parse(rig.Sim.Meminfo(), out _);
        var vmstat = rig.VmStat;
        Assert.That(m["MemTotal"], Is.EqualTo((deflateOnOom ? managed : managed - 16 * 256) * 4));
        Assert.That(m["MemFree"], Is.EqualTo(vmstat.Global(ZoneStat.NrFreePages) * 4));
        Assert.That(m["Cached"], Is.EqualTo(vmstat.Global(ZoneStat.NrFilePages) * 4));
        Assert.That(m["Active"] + m["Inactive"], Is.EqualTo(m["Active(anon)"] + m["Inactive(anon)"] + m["Active(file)"] + m["Inactive(file)"]));
        Assert.That(m["AnonPages"], Is.EqualTo(8 * 1024));
        Assert.That((m["SwapTotal"], m["SwapFree"]), Is.EqualTo((16 * 1024 - 4, 16 * 1024 - 4)), "the header slot is not swap");
        Assert.That(m["PageTables"], Is.EqualTo(vmstat.Global(ZoneStat.NrPageTablePages) * 4));
        Assert.That(m["Committed_AS"], Is.EqualTo(8 * 1024));
        Assert.That(m["CommitLimit"], Is.EqualTo(m["MemTotal"] / 4 * 50 / 100 * 4 + m["SwapTotal"]));

        rig.Sim.WorkloadFree(0.5, "interleave", 1, "anon");
        Assert.That(Parse(rig.Sim.Meminfo(), out _)["Committed_AS"], Is.EqualTo(4 * 1024), "munmap gives the accounted pages back");
    }

    /// <summary>
    /// MemAvailable: v3.16's (3.14's) free pages less the low watermarks, plus the file LRU and the reclaimable slab each
    /// less the smaller of its half and the low watermarks; 6.1's si_mem_available, what its balloon sends as
    /// VIRTIO_BALLOON_S_AVAIL.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void MemAvailable_IsEachVersionsEstimate(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Reclaim = true });
        rig.Sim.WorkloadFile(24);
        rig.Sim.WorkloadSlab(4, reclaimable: true);
        long available = Parse(rig.Sim.Meminfo(), out _)["MemAvailable"];
        if (design == "v6.1")
        {
            Assert.That(available * 1024, Is.EqualTo(rig.Sim.BalloonStats().Single(s => s.Tag == "VIRTIO_BALLOON_S_AVAIL").Value));
            return;
        }
        var vmstat = rig.VmStat;
        long wmarkLow = rig.Node.Zones.Sum(z => z.Watermark[Zone.WmarkLow]);
        long file = vmstat.Global(ZoneStat.NrActiveFile) + vmstat.Global(ZoneStat.NrInactiveFile);
        long slab = vmstat.Global(ZoneStat.NrSlabReclaimable);
        Assert.That(file, Is.Positive);
        Assert.That(slab, Is.Positive);
        Assert.That(available, Is.EqualTo((vmstat.Global(ZoneStat.NrFreePages) - wmarkLow + file - Math.Min(file / 2, wmarkLow)
            + slab - Math.Min(slab / 2, wmarkLow)) * 4));
    }
}
