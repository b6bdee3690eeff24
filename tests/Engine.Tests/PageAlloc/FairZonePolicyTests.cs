using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// v3.16's fair zone allocation policy (ALLOC_FAIR, NR_ALLOC_BATCH; 3.12–4.7): the fast path's first pass skips a zone
/// whose batch (high − low watermark) is spent, so allocations take turns between the zones in proportion to their
/// size; when every batch is spent, __alloc_pages_nodemask resets them (reset_alloc_batches) and tries again unfairly.
/// 6.1 has no such policy: the highest zone serves while its watermark holds.
/// </summary>
public class FairZonePolicyTests
{
    private static long Batch(Zone z) => z.Watermark[Zone.WmarkHigh] - z.Watermark[Zone.WmarkLow];

    private static int[] Allocate(Rig rig, int n) =>
        rig.RunOnCpu0(() => Enumerable.Range(0, n).Select(_ => rig.Get<IPageAllocator>().AllocPages(0, Gfp.HighUserMovable)).ToArray());

    [Test]
    public void AllocPages_v3_16_SpendsEachZonesBatchInTurn_ThenResetsThem()
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, "legacy"));
        var (dma, dma32) = (rig.Node.Zones[0], rig.Node.Zones[1]);
        long batchDma = Batch(dma), batchDma32 = Batch(dma32);
        Assume.That(batchDma, Is.GreaterThan(0).And.LessThan(batchDma32), "precondition: two zones, DMA the smaller");

        var first = Allocate(rig, (int)(batchDma32 + batchDma));
        Assert.That(first.Take((int)batchDma32).All(dma32.Spans), "the highest zone first, for its batch");
        Assert.That(first.Skip((int)batchDma32).All(dma.Spans), "then DMA, for its batch");
        Assert.That(dma32.Stat[(int)ZoneStat.NrAllocBatch], Is.Zero);
        Assert.That(dma.Stat[(int)ZoneStat.NrAllocBatch], Is.Zero);

        var next = Allocate(rig, 1);
        Assert.That(dma32.Spans(next[0]), "every batch spent: reset_alloc_batches, and the unfair pass takes DMA32 again");
        Assert.That(dma32.Stat[(int)ZoneStat.NrAllocBatch], Is.EqualTo(batchDma32 - 1));
        Assert.That(dma.Stat[(int)ZoneStat.NrAllocBatch], Is.EqualTo(batchDma), "DMA's batch refilled too");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void AllocPages_v6_1_HasNoFairPolicy_TheHighestZoneServesAlone()
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, "v6.1"));
        var dma32 = rig.Node.Zones[1];
        var pages = Allocate(rig, (int)(2 * Batch(dma32)));
        Assert.That(pages.All(dma32.Spans));
    }
}
