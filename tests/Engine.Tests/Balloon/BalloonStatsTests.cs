using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Tests.Reclaim;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// update_balloon_stats per driver version (drivers/virtio/virtio_balloon.c): v3.16 (to v4.5) sends six tags, v4.8 adds
/// AVAIL (4.6), 6.1 adds HTLB_PGALLOC / HTLB_PGFAIL and CACHES; memory in bytes (pages_to_bytes), events as counts.
/// </summary>
public class BalloonStatsTests
{
    private static readonly string[] V3_16Tags =
    [
        "VIRTIO_BALLOON_S_SWAP_IN", "VIRTIO_BALLOON_S_SWAP_OUT", "VIRTIO_BALLOON_S_MAJFLT", "VIRTIO_BALLOON_S_MINFLT",
        "VIRTIO_BALLOON_S_MEMFREE", "VIRTIO_BALLOON_S_MEMTOT",
    ];

    [TestCase("legacy")]
    [TestCase("redesign")]
    [TestCase("fixed")]
    public void UpdateBalloonStats_v3_16_SendsSixTags(string design) =>
        Assert.That(Tags(new PressureRig(design: design)), Is.EqualTo(V3_16Tags));

    [Test]
    public void UpdateBalloonStats_v4_8_AddsAvail() =>
        Assert.That(Tags(new PressureRig(design: "movable")), Is.EqualTo(V3_16Tags.Append("VIRTIO_BALLOON_S_AVAIL")));

    [Test]
    public void UpdateBalloonStats_v6_1_HugetlbAfterTheFaults_CachesLast() =>
        Assert.That(Tags(new PressureRig(design: "v6.1")), Is.EqualTo(new[]
        {
            "VIRTIO_BALLOON_S_SWAP_IN", "VIRTIO_BALLOON_S_SWAP_OUT", "VIRTIO_BALLOON_S_MAJFLT", "VIRTIO_BALLOON_S_MINFLT",
            "VIRTIO_BALLOON_S_HTLB_PGALLOC", "VIRTIO_BALLOON_S_HTLB_PGFAIL", "VIRTIO_BALLOON_S_MEMFREE", "VIRTIO_BALLOON_S_MEMTOT",
            "VIRTIO_BALLOON_S_AVAIL", "VIRTIO_BALLOON_S_CACHES",
        }));

    [TestCase("fixed")]
    [TestCase("movable")]
    [TestCase("v6.1")]
    public void UpdateBalloonStats_ValuesAreTheKernelsCounters_MemoryInBytes(string design)
    {
        var rig = new PressureRig(design: design, swapMib: 16);
        rig.Sim.WorkloadFile(4);
        rig.Sim.WorkloadAnon(40);
        rig.Sim.WorkloadAnon(30); // swaps some of the first process out
        rig.Sim.WorkloadTouch(1.0, "anon", "random", 1); // and faults some back in
        rig.Sim.BalloonInflate(2);

        var stats = Stats(rig);
        Assert.That(rig.Event(VmEvent.Pswpout), Is.GreaterThan(0));
        Assert.That(stats["VIRTIO_BALLOON_S_SWAP_OUT"], Is.EqualTo(rig.Event(VmEvent.Pswpout) * 4096));
        Assert.That(stats["VIRTIO_BALLOON_S_SWAP_IN"], Is.EqualTo(rig.Event(VmEvent.Pswpin) * 4096));
        Assert.That(stats["VIRTIO_BALLOON_S_MAJFLT"], Is.EqualTo(rig.Event(VmEvent.Pgmajfault)));
        Assert.That(stats["VIRTIO_BALLOON_S_MINFLT"], Is.EqualTo(rig.Event(VmEvent.Pgfault)).And.GreaterThanOrEqualTo(60 * 256));
        Assert.That(stats["VIRTIO_BALLOON_S_MEMFREE"], Is.EqualTo(rig.VmStat.Global(ZoneStat.NrFreePages) * 4096));
        Assert.That(stats["VIRTIO_BALLOON_S_MEMTOT"], Is.EqualTo((64 * 256 - 2 * 256) * 4096L), "totalram_pages: the balloon left managed_pages");
    }

    [Test]
    public void SiMemAvailable_v4_8_FreeLessReservePlusHalfTheFileCacheAndReclaimableSlab()
    {
        var rig = new PressureRig(design: "movable");
        rig.Sim.WorkloadFile(8);
        rig.Sim.WorkloadSlab(2, reclaimable: true);

        long free = rig.VmStat.Global(ZoneStat.NrFreePages), file = rig.Stat(ZoneStat.NrActiveFile) + rig.Stat(ZoneStat.NrInactiveFile);
        long slab = rig.Stat(ZoneStat.NrSlabReclaimable), low = rig.Node.Zones.Sum(z => z.Watermark[Zone.WmarkLow]);
        long reserve = ReserveOfTheZonesNow(rig.Node);
        long available = free - reserve + file - Math.Min(file / 2, low) + slab - Math.Min(slab / 2, low);
        Assert.That(file, Is.EqualTo(8 * 256));
        Assert.That(Stats(rig)["VIRTIO_BALLOON_S_AVAIL"], Is.EqualTo(available * 4096));
    }

    /// <summary>
    /// 6.1's zonelist takes DMA32 down to its low watermark before it touches DMA (v3.16's fair zone policy would spread
    /// the balloon over both, SiMemAvailable_v4_8 above checks the boot value there): DMA32's managed pages fall below its
    /// high watermark while DMA's free pages keep the sums positive.
    /// </summary>
    [Test]
    public void TotalreservePages_v6_1_KeepsItsBootValue_WhenTheBalloonTakesAZonesManagedPagesBelowIt()
    {
        var rig = new PressureRig(design: "v6.1");
        long boot = ReserveOfTheZonesNow(rig.Node);
        var dma32 = rig.Node.Zones.Single(z => z.Name == "DMA32");
        rig.Sim.BalloonInflate((dma32.FreePages + 256) / 256.0); // DMA32 to its watermark, then some of DMA

        Assert.That(ReserveOfTheZonesNow(rig.Node), Is.LessThan(boot), "precondition: DMA32's managed pages fell below its high watermark");
        Assert.That(rig.Node.TotalreservePages, Is.EqualTo(boot), "adjust_managed_page_count does not run calculate_totalreserve_pages");
        long free = rig.VmStat.Global(ZoneStat.NrFreePages);
        Assert.That(free, Is.GreaterThan(boot), "precondition: the sums below are not clamped at 0");
        Assert.That(rig.Get<Writeback>().GlobalDirtyableMemory(), Is.EqualTo(free - boot + 1), "global_dirtyable_memory, no file pages");
        Assert.That(Stats(rig)["VIRTIO_BALLOON_S_AVAIL"], Is.EqualTo((free - boot) * 4096), "si_mem_available");
    }

    /// <summary>calculate_totalreserve_pages' sum over the zones as they are now.</summary>
    private static long ReserveOfTheZonesNow(Node node) =>
        node.Zones.Sum(z => Math.Min(z.ManagedPages, z.LowmemReserve.DefaultIfEmpty(0).Max() + z.Watermark[Zone.WmarkHigh]));

    [Test]
    public void UpdateBalloonStats_v6_1_CachesAreTheFilePages_NoHugetlbPool()
    {
        var rig = new PressureRig(design: "v6.1");
        rig.Sim.WorkloadFile(6);

        var stats = Stats(rig);
        Assert.That(stats["VIRTIO_BALLOON_S_CACHES"], Is.EqualTo(rig.VmStat.Global(ZoneStat.NrFilePages) * 4096).And.EqualTo(6 * 256 * 4096L));
        Assert.That((stats["VIRTIO_BALLOON_S_HTLB_PGALLOC"], stats["VIRTIO_BALLOON_S_HTLB_PGFAIL"]), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public void UpdateBalloonStats_v4_8_DeflateOnOom_MemTotKeepsTheBalloon()
    {
        var rig = new PressureRig(design: "movable", deflateOnOom: true);
        rig.Sim.BalloonInflate(8);
        Assert.That(Stats(rig)["VIRTIO_BALLOON_S_MEMTOT"], Is.EqualTo(64 * 256 * 4096L));
    }

    private static Dictionary<string, long> Stats(PressureRig rig) => rig.Sim.BalloonStats().ToDictionary(s => s.Tag, s => s.Value);

    private static string[] Tags(PressureRig rig) => rig.Sim.BalloonStats().Select(s => s.Tag).ToArray();
}
