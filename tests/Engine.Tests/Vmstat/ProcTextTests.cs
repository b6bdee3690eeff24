using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Vmstat;

/// <summary>
/// Text of /proc/buddyinfo, /proc/pagetypeinfo and the debugfs extfrag files, byte for byte as v3.16 mm/vmstat.c
/// prints them (frag_show_print, pagetypeinfo_show*, extfrag_show_print, unusable_show_print). The expected
/// texts are written out by hand from the format strings.
/// </summary>
public class ProcTextTests
{
    private const string Zeros10 = "     0      0      0      0      0      0      0      0      0      0 ";

    /// <summary>
    /// zone_page_state / global_page_state (v3.16 vmstat.h, CONFIG_SMP) read a counter below zero as 0: buffered_rmqueue
    /// spends NR_ALLOC_BATCH past 0 (six order-9 allocations from DMA32's batch of 2,772), and /proc/zoneinfo and
    /// /proc/vmstat print nr_alloc_batch 0 for it, not the raw -300.
    /// </summary>
    [Test]
    public void ZonePageState_v316_ANegativeNrAllocBatchReadsAsZero()
    {
        var rig = Rig.Create(1024);
        var dma32 = rig.Node.Zones.Single(z => z.Name == "DMA32");
        Assert.That(rig.Sim.Allocate(9, 6), Is.EqualTo(6));
        long batch = dma32.Stat[(int)Engine.Vmstat.ZoneStat.NrAllocBatch];
        Assert.That(batch, Is.Negative, "precondition: the batch spent past 0");

        string zoneinfo = rig.Sim.Zoneinfo();
        string dma32Section = zoneinfo[zoneinfo.IndexOf("zone    DMA32", StringComparison.Ordinal)..];
        Assert.That(dma32Section, Does.Contain("\n    nr_alloc_batch 0\n"));
        long global = rig.Node.Zones.Sum(z => z.Stat[(int)Engine.Vmstat.ZoneStat.NrAllocBatch]);
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain($"\nnr_alloc_batch {Math.Max(0, global)}\n"));
        Assert.That(global, Is.Negative, "precondition: the sum is below zero too");
    }

    [Test]
    public void FragShowPrint_v316_BuddyinfoOfA16MiBGuestAtBoot() =>
        Assert.That(new Harness(16).Sim.Buddyinfo(),
            Is.EqualTo("Node 0, zone      DMA " + Zeros10 + "     4 \n"));

    [Test]
    public void FragShowPrint_v316_BuddyinfoOfA64MiBGuestAtBoot() =>
        Assert.That(new Harness(64).Sim.Buddyinfo(), Is.EqualTo(
            "Node 0, zone      DMA " + Zeros10 + "     4 \n" +
            "Node 0, zone    DMA32 " + Zeros10 + "    12 \n"));

    [Test]
    public void FragShowPrint_v316_BuddyinfoAfterOneOrder0Allocation()
    {
        var h = new Harness(16);
        h.Buddy.BufferedRmqueue(h.Zone("DMA"), 0, MigrateType.Movable);

        Assert.That(h.Sim.Buddyinfo(), Is.EqualTo(
            "Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      3 \n"));
    }

    [Test]
    public void PagetypeinfoShow_v316_LayoutOfA16MiBGuestAtBoot()
    {
        const string zoneRow = "Node    0, zone      DMA, type ";
        string expected =
            "Page block order: 9\n" +
            "Pages per block:  512\n" +
            "\n" +
            "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n" +
            zoneRow + "   Unmovable " + Zeros10 + "     0 \n" +
            zoneRow + " Reclaimable " + Zeros10 + "     0 \n" +
            zoneRow + "     Movable " + Zeros10 + "     3 \n" +
            zoneRow + "     Reserve " + Zeros10 + "     1 \n" +
            zoneRow + "     Isolate " + Zeros10 + "     0 \n" +
            "\n" +
            "Number of blocks type     Unmovable  Reclaimable      Movable      Reserve      Isolate \n" +
            "Node 0, zone      DMA            0            0            7            1            0 \n";

        Assert.That(new Harness(16).Sim.Pagetypeinfo(), Is.EqualTo(expected));
    }

    [Test]
    public void ExtfragAndUnusableShowPrint_v316_FourOrder8Blocks()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        foreach (int pfn in new[] { 1024, 1536, 2048, 2560 }) h.Release(pfn, 8);

        // Orders 0-8: a suitable block exists (-1000). Order 9: 250 (see FragmentationTests). Order 10:
        // 1 024 000 / 1024 = 1000; 2000 / 4 = 500. Unusable: 0 up to order 8, then all 1024 pages unusable.
        Assert.That(h.Sim.ExtfragText(), Is.EqualTo(
            "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 0.250 0.500 \n"));
        Assert.That(h.Sim.UnusableText(), Is.EqualTo(
            "Node 0, zone      DMA 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 1.000 1.000 \n"));
        Assert.That((h.Sim.ExtfragIndex(9), h.Sim.UnusableIndex(9)), Is.EqualTo((250, 1000)));
    }

    [Test]
    public void ExtfragShowPrint_v316_OneOrder8BlockPrintsNegativeIndices()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        h.Release(1024, 8);

        // Order 9: 256 000 / 512 = 500, 1000 - 1500 = -500; order 10: 256 000 / 1024 = 250, 1000 - 1250 = -250.
        Assert.That(h.Sim.ExtfragText(), Is.EqualTo(
            "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 0.-500 0.-250 \n"));
    }

    /// <summary>
    /// zoneinfo's pagesets print the high and batch the kernel set at boot (v3.16 setup_zone_pageset; 6.1 zone_pcp_update
    /// from setup_per_zone_wmarks): adjust_managed_page_count does not resize them, so inflating the balloon changes
    /// nothing there, and a guest without per-cpu lists prints what one with them holds.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void ZoneinfoPagesets_KeepTheirBootSizes_WithOrWithoutPerCpuLists(string design)
    {
        string Pagesets(bool pcp)
        {
            var sim = Simulation.Create(new SimulationOptions { MemoryMib = 1024, Design = Engine.Designs.KernelDesign.Parse(design), Seed = 1, PerCpuLists = pcp });
            string before = Lines(sim.Zoneinfo());
            sim.BalloonInflate(800);
            Assert.That(Lines(sim.Zoneinfo()), Is.EqualTo(before), $"per_cpu_lists={pcp}: unchanged by the balloon");
            return before;
        }
        static string Lines(string zoneinfo) =>
            string.Join("\n", zoneinfo.Split('\n').Where(l => l.TrimStart().StartsWith("high:") || l.TrimStart().StartsWith("batch:")));

        Assert.That(Pagesets(pcp: false), Is.EqualTo(Pagesets(pcp: true)));
    }
}
