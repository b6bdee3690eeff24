using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// v3.16 mm/page_alloc.c allocation: __rmqueue_smallest, expand, __rmqueue_fallback, try_to_steal_freepages,
/// move_freepages_block and the MIGRATE_RESERVE retry of __rmqueue. A 16 MiB guest has one zone (DMA, pfn
/// 0..4095, eight pageblocks); every test first allocates all of it and then gives back exactly the free blocks
/// the case needs, so the lists hold nothing else.
/// </summary>
public class RmqueueTests
{
    private Harness _h = null!;
    private Zone _zone = null!;

    [SetUp]
    public void SetUp()
    {
        _h = new Harness(16);
        _zone = _h.Zone("DMA");
        _h.AllocateAll(_zone);
        Assume.That(Harness.NrFreePagesInAreas(_zone), Is.Zero);
    }

    [Test]
    public void RmqueueSmallest_v316_Order3FromOrder5Block_ReturnsLowPagesAndExpandsUpperHalves()
    {
        const int p = 1024 + 64;
        _h.Release(p, 5);

        int pfn = _h.Buddy.RmqueueSmallest(_zone, 3, MigrateType.Movable);

        Assert.That(pfn, Is.EqualTo(p), "the caller keeps the lowest-addressed 2^3 pages P..P+7");
        Assert.That(_h.FreeList(_zone, 4, MigrateType.Movable), Is.EqualTo(new[] { p + 16 }));
        Assert.That(_h.FreeList(_zone, 3, MigrateType.Movable), Is.EqualTo(new[] { p + 8 }));
        Assert.That(_h.FreeList(_zone, 5, MigrateType.Movable), Is.Empty);
        Assert.That(_zone.NrFree.AsSpan().ToArray()[3..6], Is.EqualTo(new long[] { 1, 1, 0 }));
        Assert.That((_h.Pages.PageBuddy(p + 16), _h.Pages.PageOrder(p + 16)), Is.EqualTo((true, 4)));
        Assert.That((_h.Pages.PageBuddy(p + 8), _h.Pages.PageOrder(p + 8)), Is.EqualTo((true, 3)));
        Assert.That(_h.Pages.PageBuddy(p), Is.False, "rmv_page_order on the block taken");
        Assert.That(_h.Pages.Index[p], Is.EqualTo(MigrateType.Movable), "set_freepage_migratetype");
    }

    [Test]
    public void RmqueueSmallest_v316_TakesTheListHead()
    {
        _h.Release(1024 + 64, 5);
        _h.Release(2048 + 64, 5); // freed last: list_add puts it at the head

        Assert.That(_h.FreeList(_zone, 5, MigrateType.Movable), Is.EqualTo(new[] { 2048 + 64, 1024 + 64 }));
        Assert.That(_h.Buddy.RmqueueSmallest(_zone, 5, MigrateType.Movable), Is.EqualTo(2048 + 64));
        Assert.That(_h.Buddy.RmqueueSmallest(_zone, 5, MigrateType.Movable), Is.EqualTo(1024 + 64));
    }

    [Test]
    public void Expand_v316_PutsEachUpperHalfAtTheHeadOfItsList()
    {
        _h.Release(2048 + 16, 4);
        _h.Release(2048 + 8, 3);
        const int p = 1024 + 64; // an allocated order-5 block, as if __rmqueue_smallest had just unlinked it

        _h.Buddy.Expand(_zone, p, 3, 5, MigrateType.Movable);

        Assert.That(_h.FreeList(_zone, 4, MigrateType.Movable), Is.EqualTo(new[] { p + 16, 2048 + 16 }));
        Assert.That(_h.FreeList(_zone, 3, MigrateType.Movable), Is.EqualTo(new[] { p + 8, 2048 + 8 }));
    }

    [Test]
    public void RmqueueFallback_v316_TakesTheLargestBlockAndRelabelsWholePageblocks()
    {
        _h.Release(3072 + 8, 3);
        _h.Release(1024, 10);
        _h.Release(2048, 10);

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(pfn, Is.EqualTo(2048), "largest order first, head of the MOVABLE order-10 list");
        Assert.That(_h.FreeList(_zone, 3, MigrateType.Movable), Is.EqualTo(new[] { 3072 + 8 }), "the order-3 block is not touched");
        Assert.That(_zone.GetPageblockMigratetype(2048), Is.EqualTo(MigrateType.Unmovable));
        Assert.That(_zone.GetPageblockMigratetype(2048 + 512), Is.EqualTo(MigrateType.Unmovable));
        Assert.That(_zone.GetPageblockMigratetype(1024), Is.EqualTo(MigrateType.Movable));
        for (int o = 0; o < 10; o++)
            Assert.That(_h.FreeList(_zone, o, MigrateType.Unmovable), Is.EqualTo(new[] { 2048 + (1 << o) }), $"order {o}");
        Assert.That(_h.Pages.Index[pfn], Is.EqualTo(MigrateType.Unmovable));
    }

    [Test]
    public void TryToStealFreepages_v316_Order8MovesThePageblockAndRelabelsWhenHalfIsFree()
    {
        const int pb = 1536;
        _h.Release(pb, 6);
        _h.Release(pb + 256, 8); // 64 + 256 = 320 free pages in the pageblock, ≥ 256

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(pfn, Is.EqualTo(pb + 256));
        Assert.That(_zone.GetPageblockMigratetype(pb), Is.EqualTo(MigrateType.Unmovable));
        Assert.That(_zone.GetPageblockMigratetype(1024), Is.EqualTo(MigrateType.Movable), "only the one pageblock");
        Assert.That(_h.FreeList(_zone, 6, MigrateType.Unmovable), Is.EqualTo(new[] { pb + 256 + 64, pb }),
            "the order-6 block was moved by move_freepages_block; expand then added its own at the head");
        for (int o = 0; o < Zone.MaxOrder; o++)
            Assert.That(_h.FreeList(_zone, o, MigrateType.Movable), Is.Empty, $"order {o}");
    }

    [Test]
    public void TryToStealFreepages_v316_Exactly256PagesMovedRelabels()
    {
        _h.Release(1536 + 256, 8);

        _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(_zone.GetPageblockMigratetype(1536), Is.EqualTo(MigrateType.Unmovable));
        Assert.That(_h.FreeList(_zone, 7, MigrateType.Unmovable), Is.EqualTo(new[] { 1536 + 256 + 128 }));
    }

    [Test]
    public void TryToStealFreepages_v316_FewerThan256PagesMovedKeepsLabelAndReturnsFallbackType()
    {
        const int pb = 1536;
        _h.Release(pb + 4, 2);
        _h.Release(pb + 128, 7); // 4 + 128 = 132 pages < 256

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(pfn, Is.EqualTo(pb + 128));
        Assert.That(_zone.GetPageblockMigratetype(pb), Is.EqualTo(MigrateType.Movable));
        Assert.That(_h.FreeList(_zone, 2, MigrateType.Unmovable), Is.EqualTo(new[] { pb + 4 }),
            "move_freepages_block moved the order-2 block although the pageblock was not relabelled");
        Assert.That(_h.FreeList(_zone, 6, MigrateType.Movable), Is.EqualTo(new[] { pb + 128 + 64 }),
            "expand used the fallback type");
        Assert.That(_h.Pages.Index[pfn], Is.EqualTo(MigrateType.Movable));
    }

    [Test]
    public void TryToStealFreepages_v316_BelowOrder4NothingIsMoved()
    {
        const int pb = 1536;
        _h.Release(pb + 4, 2);
        _h.Release(pb + 8, 3);

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(pfn, Is.EqualTo(pb + 8));
        Assert.That(_zone.GetPageblockMigratetype(pb), Is.EqualTo(MigrateType.Movable));
        Assert.That(_h.FreeList(_zone, 2, MigrateType.Movable), Is.EqualTo(new[] { pb + 8 + 4, pb + 4 }));
        for (int o = 0; o < Zone.MaxOrder; o++)
            Assert.That(_h.FreeList(_zone, o, MigrateType.Unmovable), Is.Empty, $"order {o}");
    }

    [Test]
    public void TryToStealFreepages_v316_ReclaimableRequestMovesEvenBelowOrder4()
    {
        const int pb = 1536;
        _h.Release(pb + 4, 2);
        _h.Release(pb + 8, 3);

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Reclaimable);

        Assert.That(pfn, Is.EqualTo(pb + 8));
        Assert.That(_h.FreeList(_zone, 2, MigrateType.Reclaimable), Is.EqualTo(new[] { pb + 4 }));
        Assert.That(_zone.GetPageblockMigratetype(pb), Is.EqualTo(MigrateType.Movable), "12 pages moved < 256");
        Assert.That(_h.Pages.Index[pfn], Is.EqualTo(MigrateType.Movable));
    }

    [Test]
    public void Rmqueue_v316_MigrateReserveOnlyAsLastResort()
    {
        _h.Release(0, 10); // pageblock 0 is MIGRATE_RESERVE: the block goes to the reserve list
        Assert.That(_h.FreeList(_zone, 10, MigrateType.Reserve), Is.EqualTo(new[] { 0 }));
        _h.Release(3072 + 5, 0);

        Assert.That(_h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable), Is.EqualTo(3072 + 5), "fallback to MOVABLE first");
        Assert.That(_h.FreeList(_zone, 10, MigrateType.Reserve), Is.EqualTo(new[] { 0 }));

        int pfn = _h.Buddy.Rmqueue(_zone, 0, MigrateType.Unmovable);

        Assert.That(pfn, Is.EqualTo(0));
        Assert.That(_h.Pages.Index[pfn], Is.EqualTo(MigrateType.Reserve));
        Assert.That(_h.FreeList(_zone, 9, MigrateType.Reserve), Is.EqualTo(new[] { 512 }));
        Assert.That(_zone.GetPageblockMigratetype(0), Is.EqualTo(MigrateType.Reserve));
        Assert.That(_zone.GetPageblockMigratetype(512), Is.EqualTo(MigrateType.Movable), "the reserve path steals nothing");
    }

    [Test]
    public void Rmqueue_v316_ReserveRequestDoesNotFallBack()
    {
        _h.Release(3072, 10);

        Assert.That(_h.Buddy.Rmqueue(_zone, 0, MigrateType.Reserve), Is.EqualTo(-1));
        Assert.That(_h.FreeList(_zone, 10, MigrateType.Movable), Is.EqualTo(new[] { 3072 }));
    }
}
