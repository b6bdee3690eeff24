using BalloonScript.Engine.Designs;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>The x86-64 zone layout of node 0 and boot into order-10 blocks, across the supported memory sizes.</summary>
public class NodeLayoutTests
{
    // DMA is the first 16 MiB (4096 pages), DMA32 ends at 4 GiB (pfn 1 << 20), Normal above: pages / 1024 per zone.
    [TestCase(16, new[] { "DMA" }, new long[] { 4 })]
    [TestCase(4096, new[] { "DMA", "DMA32" }, new long[] { 4, 1020 })]
    [TestCase(65536, new[] { "DMA", "DMA32", "Normal" }, new long[] { 4, 1020, 15360 })]
    public void Boot_ZonesFrom16MiBTo64GiB_AllMemoryInOrder10Blocks(long memoryMib, string[] zones, long[] order10Blocks)
    {
        var rig = new SimRig(TestOptions.Classic(memoryMib) with { CheckAccounting = false });
        Assert.That(rig.Node.Zones.Select(z => z.Name), Is.EqualTo(zones));
        Assert.That(rig.Node.Zones.Select(z => z.NrFree[10]), Is.EqualTo(order10Blocks));
        Assert.That(rig.Node.Zones.Sum(z => z.FreePages), Is.EqualTo(memoryMib * 256));
        Assert.That(rig.Node.Zones.Sum(z => z.SpannedPages), Is.EqualTo(memoryMib * 256));
    }

    [Test]
    public void Guest64GiB_WorkloadBalloonAndCompaction_RunCleanly()
    {
        var sim = Simulation.Create(TestOptions.Classic(65536, 2, 1, "redesign"));
        sim.WorkloadAnon(8192);
        sim.WorkloadFree(0.5, "interleave", 1);
        Assert.That(sim.BalloonInflate(2048), Is.EqualTo(2048 * 256));
        Assert.That(sim.Compact().Migrated, Is.Positive);
        Assert.That(sim.Reports, Is.Empty);
    }
}
