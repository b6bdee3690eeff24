using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// The reference-count and state ledger of one balloon page (kernel-semantics §6.12), event by event:
/// v3.16 (legacy) and v3.18 (redesign; fixed changes nothing here).
/// </summary>
public class BalloonLedgerTests
{
    /// <summary>Inflate one page, isolate it as compaction does and migrate it to a page from the buddy allocator.</summary>
    private static (int Page, int Newpage) MigrateOnePage(BalloonRig rig)
    {
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        int newpage = rig.AllocTarget();
        Assert.That(rig.UnmapAndMove(p, newpage), Is.EqualTo(MigrateRc.Success));
        return (p, newpage);
    }

    // ---- v3.16 ----

    [Test]
    public void BalloonPageEnqueue_v316_ListsPageWithBalloonMappingNoFlagsOneReference()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.Pages.Mapping[p], Is.EqualTo(rig.Dev.Mapping).And.Not.Zero);
        Assert.That(rig.Mappings.ReadFlags(rig.Dev.Mapping, p) & (1UL << MappingTable.AsBalloonMap), Is.Not.Zero);
        Assert.That(rig.Pages.Flags[p], Is.Zero);
        Assert.That(rig.Pages.MapCount[p], Is.EqualTo(-1));
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Balloon));
        Assert.That(rig.VmStat.Event(VmEvent.BalloonInflate), Is.EqualTo(1));
    }

    [Test]
    public void BalloonPageIsolate_v316_KeepsSecondReferenceUnlistsAndCountsIsolated()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Isolation.IsolateFromScanner(p, lruLocked: true), Is.True);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(2));
        Assert.That(rig.Pages.Mapping[p], Is.EqualTo(rig.Dev.Mapping));
        Assert.That(rig.BalloonList(), Is.Empty);
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
        Assert.That(rig.Movability.IsolatedBalloonPage(p), Is.True);
    }

    [Test]
    public void BalloonPagePutback_v316_RelistsDropsReferenceAndUncountsIsolated()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        rig.Lists.Del(p); // putback_movable_pages unlinks first
        rig.BalloonOps.Putback(p);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        Assert.That(rig.Movability.Movable(p), Is.True);
    }

    [Test]
    public void BalloonPageDequeue_v316_TakesExtraReferenceAndClearsMapping()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(p));
        Assert.That(rig.Pages.Count[p], Is.EqualTo(2));
        Assert.That(rig.Pages.Mapping[p], Is.Zero);
        Assert.That(rig.Lists.OnAList(p), Is.False);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonDeflate), Is.EqualTo(1));
    }

    [Test]
    public void BalloonPageFree_v316_DropsBothReferencesOfADequeuedPage()
    {
        var rig = new BalloonRig("legacy");
        long free = rig.Node.Zones.Sum(z => z.FreePages);
        int p = rig.Balloon.Enqueue();
        rig.Balloon.Dequeue();
        rig.BalloonOps.BalloonPageFree(p);
        Assert.That(rig.Pages.Count[p], Is.Zero);
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Free));
        Assert.That(rig.Node.Zones.Sum(z => z.FreePages), Is.EqualTo(free));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// balloon_page_free's first drop is put_page, the LRU-aware one (v3.16 __put_single_page: __page_cache_release, then
    /// the free); only the second is __free_page. A stale PFN the driver frees after the page became someone's LRU page
    /// (the deflate-vs-migrate race) takes that page off its LRU list and frees it; the second drop then finds a free page.
    /// </summary>
    [Test]
    public void BalloonPageFree_v316_FirstDropIsTheLruAwarePutPage()
    {
        var rig = new BalloonRig("legacy");
        var lru = rig.Get<Lru>();
        int p = rig.AllocTarget();
        lru.LruCacheAdd(p);
        Assert.That((rig.Pages.PageLru(p), rig.Pages.Count[p]), Is.EqualTo((true, 1)), "an LRU page with one reference");

        rig.BalloonOps.BalloonPageFree(p);
        Assert.That(rig.Pages.PageLru(p), Is.False, "__page_cache_release took it off its list");
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Free), "and it was freed");
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Kind), Has.None.EqualTo(ReportKind.BadPage), "not freed with PG_lru set");
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Kind), Has.Some.EqualTo(ReportKind.VmBug), "__free_page on a page already free");
    }

    [Test]
    public void UnmapAndMove_v316_BalloonSuccessFreesOldPageLeavesNewpageListedWithNullMapping()
    {
        var rig = new BalloonRig("legacy");
        var (p, newpage) = MigrateOnePage(rig);
        // old page: 2 → 0 through balloon_page_free; NR_ISOLATED_FILE back down.
        Assert.That(rig.Pages.Count[p], Is.Zero);
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Free));
        Assert.That(rig.Isolated(ZoneStat.NrIsolatedFile), Is.Zero);
        // newpage: on the balloon list with one reference, but move_to_new_page cleared its mapping.
        Assert.That(rig.Pages.Count[newpage], Is.EqualTo(1));
        Assert.That(rig.Pages.Mapping[newpage], Is.Zero);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { newpage }));
        Assert.That(rig.Pages.Kind[newpage], Is.EqualTo((byte)PageKind.Balloon));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        Assert.That(rig.Host.IsBallooned(newpage) && !rig.Host.IsBallooned(p), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(1));
    }

    // ---- v3.18 (and v4.5, which changes only the dequeue walk and the release point) ----

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageEnqueue_v318_PageBalloonPagePrivateDevicePrivateBalloonReference(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.Pages.MapCount[p], Is.EqualTo(PageTable.PageBalloonMapcountValue));
        Assert.That(rig.Pages.PagePrivate(p), Is.True);
        Assert.That(rig.Pages.Private[p], Is.EqualTo(BalloonDevInfo.Id));
        Assert.That(rig.Pages.Mapping[p], Is.Zero);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Balloon));
        Assert.That(rig.VmStat.Event(VmEvent.BalloonInflate), Is.EqualTo(1));
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageIsolate_v318_SecondReferenceClearsPagePrivateUnlists(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Isolation.IsolateFromScanner(p, lruLocked: true), Is.True);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(2));
        Assert.That(rig.Pages.PageBalloon(p), Is.True);
        Assert.That(rig.Pages.PagePrivate(p), Is.False);
        Assert.That(rig.BalloonList(), Is.Empty);
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
        Assert.That(rig.Movability.Movable(p), Is.False, "an isolated page is not isolatable twice");
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPagePutback_v318_SetsPagePrivateRelistsDropsReference(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        rig.Lists.Del(p);
        rig.BalloonOps.Putback(p);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.Pages.PagePrivate(p), Is.True);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageDequeue_v318_NoExtraReferenceClearsBalloonMarks(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(p));
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.Pages.MapCount[p], Is.EqualTo(-1));
        Assert.That(rig.Pages.PagePrivate(p), Is.False);
        Assert.That(rig.Pages.Private[p], Is.Zero);
        Assert.That(rig.Lists.OnAList(p), Is.False);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonDeflate), Is.EqualTo(1));
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void ReleasePage_v318_PutPageFreesADequeuedPage(string design)
    {
        var rig = new BalloonRig(design);
        long free = rig.Node.Zones.Sum(z => z.FreePages);
        int p = rig.Balloon.Enqueue();
        rig.Balloon.Dequeue();
        rig.Release.Release(p);
        Assert.That(rig.Pages.Count[p], Is.Zero);
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Free));
        Assert.That(rig.Node.Zones.Sum(z => z.FreePages), Is.EqualTo(free));
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "a dequeued v3.18 page passes free_pages_check");
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageMigrate_v318_NewpageBalloonReferenceOnListOldPageFreed(string design)
    {
        var rig = new BalloonRig(design);
        var (p, newpage) = MigrateOnePage(rig);
        // newpage: 1 (alloc) + 1 (driver get_page) − 1 (unmap_and_move put_page) = 1.
        Assert.That(rig.Pages.Count[newpage], Is.EqualTo(1));
        Assert.That(rig.Pages.PageBalloon(newpage) && rig.Pages.PagePrivate(newpage), Is.True);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { newpage }));
        // old page: 2 − 1 (driver put_page) − 1 (putback_lru_page) = 0; PageBalloon was cleared or
        // free_pages_check would have reported it (Reports is empty below).
        Assert.That(rig.Pages.Count[p], Is.Zero);
        Assert.That(rig.Pages.Kind[p], Is.EqualTo((byte)PageKind.Free));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        Assert.That(rig.Host.IsBallooned(newpage) && !rig.Host.IsBallooned(p), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    // ---- every design ----

    [TestCase("legacy"), TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageDequeue_EmptyListNothingIsolated_IsBalloonPagesLostBug(string design)
    {
        var rig = new BalloonRig(design);
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(-1));
        Assert.That(rig.Count(ReportKind.VmBug), Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports[0].Message, Does.Contain("balloon pages lost"));
    }

    [TestCase("legacy"), TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageDequeue_OnlyPageIsolated_ReturnsNullWithoutBug(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(-1));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void SetPageBalloon_v318_OnPageWithMapcount_IsVmBug()
    {
        var rig = new BalloonRig("redesign");
        int p = rig.AllocTarget();
        rig.Pages.MapCount[p] = 0; // mapped once
        rig.Dev.PagesLock.Lock();
        rig.Balloon.BalloonPageInsert(p);
        rig.Dev.PagesLock.Unlock();
        Assert.That(rig.Count(ReportKind.VmBug), Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports[0].Message, Does.Contain("__SetPageBalloon"));
    }
}
