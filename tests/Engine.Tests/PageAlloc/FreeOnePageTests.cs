using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>v3.16 __free_one_page: merging with free buddies, and where the result goes on its free list.</summary>
public class FreeOnePageTests
{
    [Test]
    public void FreeOnePage_v316_FreeingEverythingMergesBackToTheBootBlocks()
    {
        var h = new Harness(64);
        string boot = h.Sim.Buddyinfo();
        var bootTypes = h.Node.Zones.Select(z => z.PageblockMigratetype.ToArray()).ToList();
        var random = new Random(20140816);
        Gfp[] gfps = [Gfp.Kernel, Gfp.Kernel | Gfp.Reclaimable, Gfp.HighUserMovable];
        var blocks = new List<(int Pfn, int Order)>();
        for (int i = 0; i < 2000; i++)
        {
            int order = random.Next(0, 7);
            int pfn = h.Buddy.GetPageFromFreelist(order, gfps[random.Next(gfps.Length)], AllocFlags.WmarkMin);
            if (pfn >= 0) blocks.Add((pfn, order));
        }
        long allocated = blocks.Sum(b => 1L << b.Order);
        Assume.That(allocated, Is.GreaterThan(h.Pages.NrPages / 2), "the allocations used most of memory");
        Assume.That(h.Node.Zones.Select(z => z.PageblockMigratetype).Zip(bootTypes, (now, then) => now.SequenceEqual(then)),
            Has.Some.False, "fallback stole pageblocks, so free lists of several types are involved");

        foreach (var (pfn, order) in blocks.OrderBy(_ => random.Next()))
            h.Release(pfn, order);

        Assert.That(h.Sim.Buddyinfo(), Is.EqualTo(boot));
        foreach (var zone in h.Node.Zones)
        {
            Assert.That(Harness.NrFreePagesInAreas(zone), Is.EqualTo(zone.FreePages), zone.Name);
            Assert.That(zone.FreePages, Is.EqualTo(zone.SpannedPages), zone.Name);
        }
    }

    [Test]
    public void FreeOnePage_v316_MergesBuddiesWhateverTheirMigratetype()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        h.Release(3072 + 1, 0);
        h.Lists.Move(3072 + 1, zone.FreeList(0, MigrateType.Unmovable)); // a buddy on another type's list

        h.Release(3072, 0);

        Assert.That(h.FreeList(zone, 1, MigrateType.Movable), Is.EqualTo(new[] { 3072 }));
        Assert.That(zone.NrFree.AsSpan().ToArray()[0..2], Is.EqualTo(new long[] { 0, 1 }));
        Assert.That(h.Pages.PageBuddy(3072 + 1), Is.False);
    }

    [Test]
    public void FreeOnePage_v316_AddsToTailWhenTheHigherOrderBuddyIsFree()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        const int q = 1024;
        h.Release(q + 100, 0); // higher buddy q+102 is in use: head
        h.Release(q + 2, 1);

        h.Release(q + 1, 0); // buddy q+0 in use; the order-1 buddy of the pair (q+2) is free

        Assert.That(h.FreeList(zone, 0, MigrateType.Movable), Is.EqualTo(new[] { q + 100, q + 1 }));
    }

    /// <summary>
    /// __free_one_page (v3.16) guards its tail test only with pfn_valid_within(buddy), always true on x86-64 (no
    /// CONFIG_HOLES_IN_ZONE). A 23 MiB guest's memory ends inside a MAX_ORDER block (DMA32 is PFNs 4096–5887): the
    /// order-8 block at 5632 has its buddy (5888) beyond memory, so it cannot merge, but its higher-order buddy, the
    /// order-9 block at 5120, is free, so it goes to the tail, behind the order-8 block freed before it.
    /// </summary>
    [Test]
    public void FreeOnePage_v316_AtTheEndOfMemory_TheTailTestLooksPastTheMissingBuddy()
    {
        var h = new Harness(23);
        var zone = h.Zone("DMA32");
        h.AllocateAll(zone);
        h.Release(4864, 8); // its buddy (4608) and higher buddy (4096) in use: head
        h.Release(5120, 9);

        h.Release(5632, 8);

        Assert.That(h.FreeList(zone, 8, MigrateType.Movable), Is.EqualTo(new[] { 4864, 5632 }));
    }

    [Test]
    public void FreeOnePage_v316_AddsToHeadWhenTheHigherOrderBuddyIsInUse()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        const int q = 1024;
        h.Release(q + 100, 0);

        h.Release(q + 5, 0); // buddy q+4 in use, higher buddy q+6 in use

        Assert.That(h.FreeList(zone, 0, MigrateType.Movable), Is.EqualTo(new[] { q + 5, q + 100 }));
    }

    [Test]
    public void FreeOnePage_v316_AfterMergingTheHeuristicLooksAtTheMergedOrder()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        const int q = 1024;
        h.Release(q + 200, 1);
        h.Release(q + 4, 2);
        h.Release(q + 2, 0);

        // q+3 merges with q+2 into an order-1 block at q+2 (its order-1 buddy q+0 is in use). The order-2 block
        // q+0..q+3 has the free order-2 buddy q+4, so the merged block goes to the tail. (At order 0 the higher
        // buddy would have been q+0, in use: head.)
        h.Release(q + 3, 0);

        Assert.That(h.FreeList(zone, 1, MigrateType.Movable), Is.EqualTo(new[] { q + 200, q + 2 }));
        Assert.That(h.FreeList(zone, 0, MigrateType.Movable), Is.Empty);
    }

    [Test]
    public void FreeOnePage_v316_NoTailHeuristicAtOrder9()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        h.AllocateAll(zone);
        h.Release(3072, 10);
        h.Release(1024 + 512, 9);

        h.Release(2048 + 512, 9); // the order-10 buddy of its pair (3072) is free, but order 9 = MAX_ORDER-2

        Assert.That(h.FreeList(zone, 9, MigrateType.Movable), Is.EqualTo(new[] { 2048 + 512, 1024 + 512 }));
    }

    [Test]
    public void FreePagesOk_v316_NrFreePagesCountsEveryFreedPage()
    {
        var h = new Harness(16);
        var zone = h.Zone("DMA");
        long before = zone.FreePages;
        int pfn = h.Buddy.BufferedRmqueue(zone, 3, MigrateType.Movable);

        Assert.That(zone.FreePages, Is.EqualTo(before - 8));
        Assert.That(Harness.NrFreePagesInAreas(zone), Is.EqualTo(zone.FreePages));
        h.Release(pfn, 3);
        Assert.That(zone.FreePages, Is.EqualTo(before));
        Assert.That(Harness.NrFreePagesInAreas(zone), Is.EqualTo(zone.FreePages));
        Assert.That(h.Sanitizer.Reports, Is.Empty);
    }
}
