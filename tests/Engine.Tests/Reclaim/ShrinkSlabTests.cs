using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>shrink_slab (v3.16 mm/vmscan.c) on the reclaimable slab cache under memory pressure.</summary>
public class ShrinkSlabTests
{
    [Test]
    public void ShrinkSlab_FreesReclaimableSlabPages_AndTheirObjectsLeaveTheDataLedger()
    {
        var rig = new PressureRig(memoryMib: 16, swapMib: 8);
        rig.Sim.WorkloadSlab(1.25, reclaimable: true);
        long slabBefore = rig.Stat(ZoneStat.NrSlabReclaimable);
        rig.Sim.WorkloadFile(6.92);
        rig.Sim.WorkloadAnon(11.4); // more than is free: kswapd and direct reclaim shrink the slab cache too

        Assert.That(rig.Event(VmEvent.SlabsScanned), Is.GreaterThan(0));
        Assert.That(rig.Stat(ZoneStat.NrSlabReclaimable), Is.LessThan(slabBefore), "scan_objects freed slab pages");
        // A freed dentry's data is not lost, it is rebuilt from disk: its token is retired, not missing.
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "the whole-memory data check after every operation");
        long tokens = Enumerable.Range(0, (int)rig.Pages.NrPages).Count(p => rig.Pages.Content[p] != 0)
            + rig.Get<Engine.Swap.SwapArea>().ContentSlots;
        Assert.That(tokens, Is.EqualTo(rig.Get<PageContents>().Live));
    }

    /// <summary>
    /// shrink_slab_node (v3.16) scans in batches of 128 while total_scan is at least a batch or all that is freeable,
    /// counting slabs_scanned per batch whether or not scan_objects freed anything; what is left goes to nr_deferred.
    /// 200 freeable pages, asked hard: total_scan = 2 × 200 = 400; batches of 128 free 128, then the last 72, then
    /// nothing (the cache is empty, 144 ≥ 128 still), leaving 16 deferred.
    /// </summary>
    [Test]
    public void ShrinkSlab_v3_16_ScansOnPastAnEmptiedCache_CountingEachBatch()
    {
        var rig = new PressureRig(memoryMib: 16);
        rig.Sim.WorkloadSlab(200 / 256.0, reclaimable: true);
        var shrinker = rig.Get<Engine.Reclaim.V3_16.ShrinkSlab>();
        Assert.That(rig.Get<Workload.ReclaimableSlab>().Count, Is.EqualTo(200), "precondition");

        long freed = shrinker.Shrink(Engine.PageAlloc.Gfp.Kernel, nrPagesScanned: 1000, lruPages: 0);

        Assert.That(freed, Is.EqualTo(200));
        Assert.That(rig.Event(VmEvent.SlabsScanned), Is.EqualTo(3 * 128));
        Assert.That(shrinker.Save(), Is.EqualTo(16L), "nr_deferred");
    }

    /// <summary>
    /// The shrinker stands for the dentry and inode caches, whose superblock shrinker (super_cache_scan) stops at once
    /// in a reclaim without __GFP_FS: a NOFS reclaim (6.1's readahead allocations, under memalloc_nofs_save) scans and
    /// frees no slab page, and the work it was asked for is deferred to the next reclaim that may enter the filesystem
    /// (v3.16 defers what is left of total_scan, 6.1 nr + delta less what was scanned, both capped at twice the cache).
    /// </summary>
    [TestCase("fixed")]
    [TestCase("v6.1")]
    public void ReclaimWithoutGfpFs_ScansNoSlab_DefersTheWork(string design)
    {
        var rig = new PressureRig(memoryMib: 64, design: design);
        rig.Sim.WorkloadSlab(40, reclaimable: true); // nothing on the LRU: reclaim goes down the priorities to the slab
        var cache = rig.Get<Workload.ReclaimableSlab>();
        long slab = cache.Count;
        var reclaim = rig.Get<Engine.Reclaim.IReclaim>();

        reclaim.TryToFreePages(0, Engine.PageAlloc.Gfp.Kernel & ~Engine.PageAlloc.Gfp.Fs);
        Assert.That((cache.Count, rig.Event(VmEvent.SlabsScanned)), Is.EqualTo((slab, 0L)), "GFP_NOFS: nothing scanned");
        long deferred = design == "v6.1" ? rig.Get<Engine.Reclaim.ShrinkerList>().GetNrDeferred(0) : (long)rig.Get<Engine.Reclaim.V3_16.ShrinkSlab>().Save();
        Assert.That(deferred, Is.Positive, "the work is deferred");

        Assert.That(reclaim.TryToFreePages(0, Engine.PageAlloc.Gfp.Kernel), Is.Positive);
        Assert.That(cache.Count, Is.LessThan(slab), "GFP_KERNEL: the shrinker frees slab pages");
        Assert.That(rig.Event(VmEvent.SlabsScanned), Is.Positive);
    }
}
