using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// v3.16 free_pages_prepare / free_pages_check and prep_new_page / check_new_page: a page in a state the
/// allocator rejects is reported by bad_page and leaked, never put on (or handed out from) the free lists.
/// </summary>
public class BadPageTests
{
    private Harness _h = null!;
    private Zone _zone = null!;

    [SetUp]
    public void SetUp()
    {
        _h = new Harness(16);
        _zone = _h.Zone("DMA");
    }

    private (long FreePages, string Buddyinfo) State() => (_zone.FreePages, _h.Sim.Buddyinfo());

    [Test]
    public void FreePagesCheck_v316_PageWithPgLruIsBadAndNotFreed()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 0, MigrateType.Movable);
        _h.Pages.Set(pfn, PG.Lru);
        var before = State();

        _h.Release(pfn, 0);

        var bad = _h.ReportsOf(ReportKind.BadPage);
        Assert.That(bad, Has.Count.EqualTo(1));
        Assert.That(bad[0].Pfn, Is.EqualTo(pfn));
        Assert.That(bad[0].Message, Does.Contain("PAGE_FLAGS_CHECK_AT_FREE flag(s) set"));
        Assert.That(State(), Is.EqualTo(before));
        Assert.That(_h.Pages.PageBuddy(pfn), Is.False);
    }

    [Test]
    public void FreePagesCheck_v316_MappedPageIsBadNotFreedAndItsMapcountReset()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 0, MigrateType.Movable);
        _h.Pages.MapCount[pfn] = 0; // mapped once
        var before = State();

        _h.Release(pfn, 0);

        var bad = _h.ReportsOf(ReportKind.BadPage);
        Assert.That(bad, Has.Count.EqualTo(1));
        Assert.That(bad[0].Message, Does.Contain("nonzero mapcount").And.Contain("mapcount:1"));
        Assert.That(State(), Is.EqualTo(before));
        Assert.That(_h.Pages.PageBuddy(pfn), Is.False);
        Assert.That(_h.Pages.MapCount[pfn], Is.EqualTo(-1), "bad_page ends with page_mapcount_reset");
    }

    [Test]
    public void FreePagesCheck_v316_TheLastFailedTestNamesTheReason()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 0, MigrateType.Movable);
        _h.Pages.MapCount[pfn] = 0;
        _h.Pages.Set(pfn, PG.Lru);

        _h.Release(pfn, 0);

        Assert.That(_h.ReportsOf(ReportKind.BadPage).Single().Message, Does.Contain("PAGE_FLAGS_CHECK_AT_FREE flag(s) set"));
    }

    [Test]
    public void FreePagesPrepare_v316_ChecksEveryPageOfTheBlockAndFreesNoneIfOneIsBad()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 2, MigrateType.Movable);
        _h.Pages.Set(pfn + 1, PG.Slab);
        _h.Pages.Count[pfn + 3] = 1;
        var before = State();

        _h.Release(pfn, 2);

        var bad = _h.ReportsOf(ReportKind.BadPage);
        Assert.That(bad.Select(r => r.Pfn), Is.EqualTo(new long[] { pfn + 1, pfn + 3 }));
        Assert.That(bad[1].Message, Does.Contain("nonzero _count"));
        Assert.That(State(), Is.EqualTo(before));
    }

    [Test]
    public void FreePagesPrepare_v316_ClearsAnAnonMappingBeforeTheCheck()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 0, MigrateType.Movable);
        _h.Pages.Mapping[pfn] = (7 << 2) | MappingTable.PageMappingAnon;
        long before = _zone.FreePages;

        _h.Release(pfn, 0);

        Assert.That(_h.Sanitizer.Reports, Is.Empty);
        Assert.That(_zone.FreePages, Is.EqualTo(before + 1));
        Assert.That(_h.Pages.Mapping[pfn], Is.Zero);
    }

    [Test]
    public void FreePagesCheck_v316_AFileMappingLeftSetIsBad()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 0, MigrateType.Movable);
        _h.Pages.Mapping[pfn] = 7 << 2;

        _h.Release(pfn, 0);

        Assert.That(_h.ReportsOf(ReportKind.BadPage).Single().Message, Does.Contain("non-NULL mapping"));
    }

    [Test]
    public void CheckNewPage_v316_BadFreePageIsReportedAndTheNextBlockIsTaken()
    {
        // Boot left the MOVABLE order-10 list as 3072, 2048, 1024; corrupt a page inside the head block.
        _h.Pages.Set(3072 + 100, PG.Lru);
        long before = _zone.FreePages;

        int pfn = _h.Buddy.BufferedRmqueue(_zone, 10, MigrateType.Movable);

        Assert.That(pfn, Is.EqualTo(2048));
        var bad = _h.ReportsOf(ReportKind.BadPage).Single();
        Assert.That(bad.Pfn, Is.EqualTo(3072 + 100));
        Assert.That(bad.Message, Does.Contain("PAGE_FLAGS_CHECK_AT_PREP flag set"));
        Assert.That(_zone.FreePages, Is.EqualTo(before - 2048), "the bad block is leaked, as buffered_rmqueue does");
        Assert.That(_h.FreeList(_zone, 10, MigrateType.Movable), Is.EqualTo(new[] { 1024 }));
    }

    [Test]
    public void CheckNewPage_v316_ATailPageWrittenAfterItsBlockWasFreedIsStillChecked()
    {
        // Freed once, the block's tail chunks are known clean and not searched again; a write to one of them since
        // (here a stray PG_lru) must still be found by check_new_page, as it is for a block never freed before.
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 9, MigrateType.Movable);
        _h.Release(pfn, 9);
        Assert.That(_h.Pages.Changes.IsClean((pfn + 300) >> PageChanges.ChunkOrder), Is.True);
        _h.Pages.Set(pfn + 300, PG.Lru);

        int again = _h.Buddy.BufferedRmqueue(_zone, 9, MigrateType.Movable);

        Assert.That(again, Is.Not.EqualTo(pfn));
        var bad = _h.ReportsOf(ReportKind.BadPage).Single();
        Assert.That(bad.Pfn, Is.EqualTo(pfn + 300));
        Assert.That(bad.Message, Does.Contain("PAGE_FLAGS_CHECK_AT_PREP flag set"));
    }

    [Test]
    public void FreePagesCheck_v316_ATailPageWrittenWhileItsBlockWasAllocatedIsStillChecked()
    {
        int pfn = _h.Buddy.BufferedRmqueue(_zone, 9, MigrateType.Movable);
        _h.Release(pfn, 9);
        pfn = _h.Buddy.BufferedRmqueue(_zone, 9, MigrateType.Movable);
        _h.Pages.Count[pfn + 511] = 1;
        var before = State();

        _h.Release(pfn, 9);

        Assert.That(_h.ReportsOf(ReportKind.BadPage).Single().Pfn, Is.EqualTo(pfn + 511));
        Assert.That(State(), Is.EqualTo(before));
    }
}
