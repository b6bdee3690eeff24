using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The 6.1 per-cpu lists (docs/kernel/v6.1.md §2.5, §2.7): a list per (order ≤ 3, PCPTYPE) and one for THP, batch and
/// high from zone_batchsize / zone_highsize, refills of batch &gt;&gt; order blocks, nr_pcp_free's growing bulk frees, and
/// free_high draining everything when low-order pages are freed in a run. A 64 MiB guest on one CPU: DMA32 has 12288
/// managed pages, low watermark 240; batch = rounddown_pow_of_two(12288 / 1024 / 4 × 1.5) − 1 = 3; high = 240 / 1.
/// </summary>
public class PerCpuPagesV6_1Tests
{
    private static (RigV6_1 Rig, Engine.Mm.Zone Zone, PerCpuPages Pcp) Setup()
    {
        var rig = RigV6_1.Create(64, perCpuLists: true);
        var zone = rig.Zone("DMA32");
        return (rig, zone, rig.Pcp.Pcp(zone, 0));
    }

    [Test]
    public void ZonePcpUpdate_v6_1_BatchAndHighFromTheZoneSizeAndLowWatermark()
    {
        var (_, zone, pcp) = Setup();
        Assert.That(zone.Watermark[Engine.Mm.Zone.WmarkLow], Is.EqualTo(240));
        Assert.That((pcp.Batch, pcp.High), Is.EqualTo((3, 240)));
        Assert.That(PerCpuPagesets.ZoneBatchsize(258048), Is.EqualTo(63), "a zone of 1 GiB or more");
    }

    /// <summary>
    /// rmqueue_pcplist for order 3: the (order 3, MOVABLE) list is refilled with max(3 &gt;&gt; 3, 2) = 2 blocks; one is
    /// handed out, one stays (count 8); the free goes back on that list (count 16); drain_all_pages empties it.
    /// </summary>
    [Test]
    public void RmqueuePcplist_v6_1_Order3RefillsItsOwnListWithTheBatchScaledByTheOrder()
    {
        var (rig, zone, pcp) = Setup();
        long free = zone.FreePages, freed = rig.Event(VmEvent.Pgfree); // boot's frees count too
        int page = -1;
        rig.RunOnCpu0(() => page = rig.Allocator.AllocPages(3, Gfp.HighUserMovable | Gfp.Comp));
        int list = pcp.Lists[PerCpuPages.OrderToPindex(MigrateType.Movable, 3)];
        Assert.That(page, Is.Not.Negative);
        Assert.That(pcp.Count, Is.EqualTo(8));
        Assert.That(rig.Lists.Count(list, "test"), Is.EqualTo(1));
        Assert.That(zone.FreePages, Is.EqualTo(free - 16));
        Assert.That(rig.Event(VmEvent.PgallocDma32), Is.EqualTo(8));

        rig.RunOnCpu0(() => rig.Buddy.PutPage(page, 3));
        Assert.That(pcp.Count, Is.EqualTo(16));
        Assert.That(rig.Lists.Count(list, "test"), Is.EqualTo(2));
        Assert.That(rig.Event(VmEvent.Pgfree) - freed, Is.EqualTo(8));

        rig.RunOnCpu0(() => rig.Pcp.DrainAllPages(rig.Buddy, null));
        Assert.That(pcp.Count, Is.Zero);
        Assert.That(zone.FreePages, Is.EqualTo(free));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// A THP-order allocation takes two pageblocks onto the THP list (max(3 &gt;&gt; 9, 2)); freeing it passes high, and
    /// nr_pcp_free (batch 3 &lt;&lt; free_factor 0, clamped to [3, 237]) frees one block from the THP list's tail and
    /// raises free_factor. An order-1 free right after is then "free_high": every list is drained.
    /// </summary>
    [Test]
    public void FreeUnrefPageCommit_v6_1_ThpBlocksBatchedAndALowOrderFreeAfterABulkFreeDrainsEverything()
    {
        var (rig, zone, pcp) = Setup();
        long free = zone.FreePages;
        int small = -1, thp = -1;
        rig.RunOnCpu0(() => small = rig.Allocator.AllocPages(1, Gfp.HighUserMovable | Gfp.Comp));
        Assert.That(pcp.Count, Is.EqualTo(2), "order 1: two blocks refilled, one left");
        rig.RunOnCpu0(() => thp = rig.Allocator.AllocPages(9, Gfp.TransHuge));
        int thpList = pcp.Lists[PerCpuPages.NrLoworderPcpLists];
        Assert.That(rig.Lists.Count(thpList, "test"), Is.EqualTo(1));
        Assert.That(pcp.Count, Is.EqualTo(2 + 512));
        Assert.That(zone.FreePages, Is.EqualTo(free - 4 - 1024));

        rig.RunOnCpu0(() => rig.Buddy.PutPage(thp, 9));
        Assert.That(pcp.Count, Is.EqualTo(2 + 512), "1026 ≥ high 240: one 512-page block went back");
        Assert.That(pcp.FreeFactor, Is.EqualTo(1));
        Assert.That(zone.FreePages, Is.EqualTo(free - 4 - 512));

        rig.RunOnCpu0(() => rig.Buddy.PutPage(small, 1));
        Assert.That(pcp.Count, Is.Zero, "free_high: nr_pcp_high is 0 and nr_pcp_free everything");
        Assert.That(zone.FreePages, Is.EqualTo(free));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// The page inspector names the high-order lists, and the page-state check counts every page of each block on them:
    /// a count that disagrees with the lists is an accounting finding.
    /// </summary>
    [Test]
    public void Lists_v6_1_HighOrderEntriesSeenByTheInspectorAndThePageStateCheck()
    {
        var (rig, zone, pcp) = Setup();
        rig.RunOnCpu0(() => rig.Allocator.AllocPages(2, Gfp.HighUserMovable | Gfp.Comp));
        var (head, order) = rig.Pcp.Lists(zone, 0)[PerCpuPages.OrderToPindex(MigrateType.Movable, 2)];
        Assert.That(order, Is.EqualTo(2));
        int entry = rig.Lists.Next(head);
        Assert.That(rig.Sim.Page(entry).List, Is.EqualTo("DMA32 pcp[cpu0].lists[order 2, Movable]"));
        Assert.That(rig.Sim.Reports, Is.Empty, "4 pages listed, pcp->count 4");
        pcp.Count += 1;
        rig.Sim.CheckInvariants();
        pcp.Count -= 1;
        Assert.That(rig.Sim.Reports.Single().Message, Is.EqualTo("zone DMA32 cpu 0: pcp->count = 5 but its lists hold 4 pages"));
    }
}
