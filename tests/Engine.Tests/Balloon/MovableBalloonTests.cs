using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V4_8;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// The balloon on v4.8's non-LRU movable pages (b1123ea6d3b3; docs/kernel/movable-v4.8.md §2, §4, §5.6): balloon pages
/// marked with PageBalloon and the balloon inode's mapping tagged PAGE_MAPPING_MOVABLE, isolated by the generic
/// isolate_movable_page through balloon_aops, moved by move_to_new_page through a_ops-&gt;migratepage.
/// </summary>
public class MovableBalloonTests
{
    private static BalloonRig Rig() => new("movable");

    private static MovablePageIsolation Isolation(BalloonRig rig) => rig.Get<MovablePageIsolation>();

    /// <summary>One anon page on the LRU, then one balloon page right after it; (lru, balloon).</summary>
    private static (int Lru, int Balloon) LruThenBalloon(BalloonRig rig)
    {
        rig.Sim.WorkloadAnon(1 / 256.0);
        int lru = rig.Pages.Kind.AsSpan().LastIndexOf((byte)PageKind.Anon);
        rig.Driver.FillBalloon(1);
        int balloon = rig.BalloonList()[0];
        Assert.That(balloon, Is.EqualTo(lru + 1), "precondition: the balloon page follows the LRU page");
        return (lru, balloon);
    }

    /// <summary>The migrate scanner (isolate_migratepages_range) over [low, end) on a fresh compact_control; the pages it isolated.</summary>
    private static List<int> Scan(BalloonRig rig, int low, int end, out CompactControl cc)
    {
        var compaction = rig.Get<ICompaction>();
        cc = compaction.NewControl(rig.Node.ZoneOf(low), Zone.PageblockOrder, MigrateType.Movable, MigrateMode.Sync, ignoreSkipHint: true);
        compaction.IsolateMigratepagesRange(cc, low, end);
        var isolated = new List<int>();
        for (int p = rig.Lists.Next(cc.MigratePages); p != cc.MigratePages; p = rig.Lists.Next(p)) isolated.Add(p);
        return isolated;
    }

    /// <summary>One balloon page (told to the host), isolated as the scanner does onto a fresh migrate list.</summary>
    private static (int Page, int List) IsolatedBalloonPage(BalloonRig rig)
    {
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(p, out int list), Is.True);
        return (p, list);
    }

    private static void PutbackAndRelease(BalloonRig rig, CompactControl cc)
    {
        rig.Migrate.PutbackMovablePages(cc.MigratePages);
        rig.Get<ICompaction>().Release(cc);
    }

    [Test]
    public void BalloonPageInsert_v4_8_PageBalloonMovableTaggedInodeMappingPrivateIsDevice()
    {
        var rig = Rig();
        int p = rig.Balloon.Enqueue();
        var pages = rig.Pages;
        Assert.That(pages.PageBalloon(p), Is.True, "__SetPageBalloon: _mapcount -256");
        Assert.That(pages.Mapping[p], Is.EqualTo(rig.Dev.Mapping | MappingTable.PageMappingMovable), "__SetPageMovable(page, b->inode->i_mapping)");
        Assert.That(rig.Mappings.MovableOps(rig.Dev.Mapping), Is.SameAs(rig.Get<Engine.Balloon.V4_8.BalloonAops>()), "i_mapping->a_ops = &balloon_aops");
        Assert.That(pages.PageMovableUnlocked(p), Is.True);
        Assert.That(pages.Private[p], Is.EqualTo(BalloonDevInfo.Id));
        Assert.That(pages.PagePrivate(p) || pages.PageIsolated(p), Is.False, "no PG_private any more, not isolated");
        Assert.That(pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
    }

    [Test]
    public void BalloonPageDelete_v4_8_ClearPageMovableKeepsTheTag_FreedPageLosesIt()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(p));
        Assert.That(rig.Pages.Mapping[p], Is.EqualTo(MappingTable.PageMappingMovable), "__ClearPageMovable keeps PAGE_MAPPING_MOVABLE");
        Assert.That(rig.Pages.PageMovableUnlocked(p), Is.True, "__PageMovable still true");
        Assert.That(rig.Pages.PageBalloon(p) || rig.Pages.Private[p] != 0, Is.False);
        Assert.That(rig.BalloonList(), Is.Empty);

        rig.Driver.LeakBalloon(0); // nothing more
        rig.Get<Lru>().PutPage(p); // release_pages_balloon: the balloon's reference
        Assert.That(rig.Pages.Mapping[p], Is.Zero, "free_pages_prepare clears a mapping with PAGE_MAPPING_FLAGS");
        Assert.That(rig.Count(ReportKind.BadPage), Is.Zero);
    }

    [Test]
    public void IsolateMovablePage_v4_8_BalloonPage_ReferenceKeptPgIsolatedUnlistedIsolatedPagesNoNrIsolated()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(Isolation(rig).IsolateMovablePage(p, IsolateMode.Unevictable), Is.True);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(2), "the isolation reference is kept");
        Assert.That(rig.Pages.PageIsolated(p), Is.True, "__SetPageIsolated by the core");
        Assert.That(rig.Pages.PageLocked(p), Is.False);
        Assert.That(rig.BalloonList(), Is.Empty, "balloon_page_isolate: list_del");
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
        Assert.That(rig.Isolated(ZoneStat.NrIsolatedFile) + rig.Isolated(ZoneStat.NrIsolatedAnon), Is.Zero);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void IsolateMovablePage_v4_8_AlreadyIsolatedOrLocked_RefusedAndReferenceDropped()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(2);
        var (p, q) = (rig.BalloonList()[0], rig.BalloonList()[1]);
        Assert.That(Isolation(rig).IsolateMovablePage(p, IsolateMode.Unevictable), Is.True);
        Assert.That(Isolation(rig).IsolateMovablePage(p, IsolateMode.Unevictable), Is.False, "PageIsolated under the lock");
        Assert.That(rig.Pages.Count[p], Is.EqualTo(2));
        rig.PageLock.Lock(q);
        Assert.That(Isolation(rig).IsolateMovablePage(q, IsolateMode.Unevictable), Is.False, "trylock_page fails");
        rig.PageLock.Unlock(q);
        Assert.That(rig.Pages.Count[q], Is.EqualTo(1));
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
    }

    [Test]
    public void IsolateMovablePage_v4_8_FreePageOrUntaggedPage_NothingTaken()
    {
        var rig = Rig();
        rig.Sim.WorkloadSlab(1 / 256.0);
        int free = Enumerable.Range(0, rig.Pages.NrPages).First(rig.Pages.PageBuddy);
        int slab = rig.Pages.Kind.IndexOf((byte)PageKind.Slab);
        Assert.That(Isolation(rig).IsolateMovablePage(free, IsolateMode.Unevictable), Is.False, "get_page_unless_zero on a free page");
        Assert.That(rig.Pages.Count[free], Is.Zero);
        long count = rig.Pages.Count[slab];
        Assert.That(Isolation(rig).IsolateMovablePage(slab, IsolateMode.Unevictable), Is.False, "!__PageMovable: not even locked");
        Assert.That(rig.Pages.Count[slab], Is.EqualTo(count));
    }

    [Test]
    public void IsolateMovablePage_v4_8_LruLockHeldOrNot_IsolatesEitherWay()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(2);
        var (p, q) = (rig.BalloonList()[0], rig.BalloonList()[1]);
        var lruLock = rig.Node.ZoneOf(p).LruLock;
        Assert.That(Isolation(rig).IsolateMovablePage(p, IsolateMode.Unevictable), Is.True, "without lru_lock");
        lruLock.Lock();
        Assert.That(Isolation(rig).IsolateMovablePage(q, IsolateMode.Unevictable), Is.True, "with lru_lock held: isolate_movable_page never looks at it");
        lruLock.Unlock();
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(2));
    }

    [Test]
    public void IsolateMigratepagesBlock_v4_8_BalloonPageAfterAnLruPageOrAlone_IsolatedEitherWay_LegacyOnlyAfterTheLruPage()
    {
        var movable = Rig();
        var (lru, balloon) = LruThenBalloon(movable);
        Assert.That(Scan(movable, lru, balloon + 1, out var cc), Is.EquivalentTo(new[] { lru, balloon }),
            "lru_lock taken for the LRU page and dropped before isolate_movable_page");
        PutbackAndRelease(movable, cc);
        Assert.That(Scan(movable, balloon, balloon + 1, out cc), Is.EqualTo(new[] { balloon }), "no LRU page, lru_lock never taken");
        PutbackAndRelease(movable, cc);

        var legacy = new BalloonRig("legacy");
        (_, balloon) = LruThenBalloon(legacy);
        Assert.That(Scan(legacy, balloon, balloon + 1, out cc), Is.Empty, "v3.16: locked && balloon_page_isolate (defect 3)");
        PutbackAndRelease(legacy, cc);

        movable.Check.Run();
        Assert.That(movable.Sanitizer.Reports, Is.Empty);
        Assert.That(movable.Dev.IsolatedPages, Is.Zero);
    }

    [Test]
    public void PutbackMovablePages_v4_8_BalloonPageRelistedUnflaggedReferenceDropped()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);
        rig.Migrate.PutbackMovablePages(list);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }), "balloon_page_putback: list_add");
        Assert.That(rig.Pages.PageIsolated(p), Is.False);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>What a driver that lets go of an isolated page does (v4.8 does allow it): balloon_page_delete under the page lock.</summary>
    private static void OwnerReleases(BalloonRig rig, int page)
    {
        rig.PageLock.Lock(page);
        rig.Balloon.BalloonPageDelete(page);
        rig.PageLock.Unlock(page);
        rig.Dev.IsolatedPages--;
    }

    [Test]
    public void PutbackMovablePages_v4_8_OwnerReleasedAndDroppedItsReference_PageUnflaggedAndFreed()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);
        OwnerReleases(rig, p);
        rig.Get<Lru>().PutPage(p);

        rig.Migrate.PutbackMovablePages(list);

        Assert.That(rig.Pages.Count[p], Is.Zero, "!PageMovable: only __ClearPageIsolated, then put_page frees it");
        Assert.That(rig.Pages.Mapping[p] | (int)rig.Pages.Flags[p], Is.Zero);
        Assert.That(rig.BalloonList(), Is.Empty);
        Assert.That(rig.Count(ReportKind.BadPage) + rig.Count(ReportKind.VmBug), Is.Zero);
    }

    [Test]
    public void UnmapAndMove_v4_8_OwnerReleasedItsReferenceWhileIsolated_FreedFromUnderUsCountsAsMigrated()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);
        OwnerReleases(rig, p);
        rig.Get<Lru>().PutPage(p); // page_count 1: only the isolation's
        int target = -1;

        int left = rig.Migrate.MigratePages(list, _ => target = rig.AllocTarget(), t => rig.Buddy.PutPage(t), MigrateMode.Sync);

        Assert.That(left, Is.Zero);
        Assert.That(rig.VmStat.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1), "page was freed from under us: done");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.Zero, "no migratepage called");
        Assert.That(rig.Pages.Count[p] + rig.Pages.Count[target], Is.Zero, "the page and the unused target are both free");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// The same in a switching run: v4.8's unmap_and_move takes the freed non-LRU page's lock to clear PG_isolated if its
    /// owner let go (lock_page, PageMovable); 6.1's clears only PG_active and PG_unevictable and leaves PG_isolated to
    /// free_pages_prepare, taking no lock. Either way the page is freed and counts as migrated.
    /// </summary>
    [TestCase("movable", true)]
    [TestCase("v6.1", false)]
    public void UnmapAndMove_OwnerReleasedItsReferenceWhileIsolated_OnlyV48LocksThePage(string design, bool locks)
    {
        var rig = new BalloonRig(design);
        var (p, list) = IsolatedBalloonPage(rig);
        OwnerReleases(rig, p);
        rig.Get<Lru>().PutPage(p);
        var scheduler = rig.Get<Scheduler>();
        var tasks = new[]
        {
            new SimTask(0, 0, "migrate", () => rig.Get<IMigration>().MigratePages(list, _ => rig.AllocTarget(), t => rig.Buddy.PutPage(t), MigrateMode.Sync)),
            new SimTask(1, 1, "other", () => scheduler.Preempt("other")),
        };

        scheduler.Run(tasks, new RoundRobinStrategy()); // without the whole-memory checks: the hand-made release bypasses the host

        Assert.That(scheduler.Trace.Any(t => t.Task == "migrate" && t.Point == "lock_page"), Is.EqualTo(locks));
        Assert.That(rig.VmStat.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1));
        Assert.That(rig.Pages.Count[p], Is.Zero);
        Assert.That(rig.Pages.Flags[p], Is.Zero, "PG_isolated gone with the rest when the page was freed");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void MoveToNewPage_v4_8_OwnerLetGoButKeepsAReference_SuccessWithoutCallingTheOwner()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);
        OwnerReleases(rig, p); // __ClearPageMovable: mapping is the bare tag, the owner still holds its reference
        int target = -1;

        int left = rig.Migrate.MigratePages(list, _ => target = rig.AllocTarget(), t => rig.Buddy.PutPage(t), MigrateMode.Sync);

        Assert.That(left, Is.Zero);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.Zero, "!PageMovable: rc = MIGRATEPAGE_SUCCESS, no a_ops->migratepage");
        Assert.That(rig.Pages.PageIsolated(p), Is.False, "__ClearPageIsolated");
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1), "the owner's reference; the isolation's is dropped");
        Assert.That(rig.Pages.Count[target], Is.Zero, "newpage, never used, goes through putback_lru_page and is freed");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void MigratePages_v4_8_BalloonPage_DriverMovesItOldPageFreedNewpageListedAndTold()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];

        Assert.That(rig.MigrateBalloonPage(p), Is.EqualTo(MigrateRc.Success));

        int n = rig.BalloonList().Single();
        Assert.That(n, Is.Not.EqualTo(p));
        Assert.That(rig.Pages.Count[p], Is.Zero, "old page: driver's put_page and the isolation's; freed, its tag cleared");
        Assert.That(rig.Pages.Mapping[p], Is.Zero);
        Assert.That(rig.Pages.Count[n], Is.EqualTo(1), "newpage: the balloon's reference (migration's dropped by put_page)");
        Assert.That(rig.Pages.PageMovableUnlocked(n) && rig.Pages.PageBalloon(n) && !rig.Pages.PageIsolated(n), Is.True);
        Assert.That(rig.Host.IsBallooned(n) && !rig.Host.IsBallooned(p), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(1));
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void MigratePages_v4_8_BalloonPageMigratedTwice_StaysMovable_NoDefect2()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(rig.MigrateBalloonPage(p), Is.EqualTo(MigrateRc.Success));
        int n = rig.BalloonList().Single();
        Assert.That(rig.MigrateBalloonPage(n), Is.EqualTo(MigrateRc.Success));
        int m = rig.BalloonList().Single();

        Assert.That(n != p && m != n, Is.True, "moved each time (the first page, freed, may be the second target)");
        Assert.That(rig.Get<IBalloonPageIdentity>().ListedPageMovable(m), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(2));
        Assert.That(rig.Host.Ballooned, Is.EqualTo(1));
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "no balloon_unmovable");
    }

    [Test]
    public void MigratePages_v4_8_BalloonLockHeldThroughTenPasses_LeftoverRetryCountedAsFailure()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);
        rig.Driver.BalloonLock.Lock(); // a fill or leak in progress: virtballoon_migratepage returns -EAGAIN every pass

        int left = rig.Migrate.MigratePages(list, _ => rig.AllocTarget(), t => rig.Buddy.PutPage(t), MigrateMode.Sync);

        rig.Driver.BalloonLock.Unlock();
        Assert.That(left, Is.EqualTo(1), "nr_failed += retry");
        Assert.That(rig.VmStat.Event(VmEvent.PgmigrateFail), Is.EqualTo(1), "v4.8 counts the page still retrying (v3.16 did not)");
        rig.Migrate.PutbackMovablePages(list);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void MigratePages_v4_8_NoTargetPage_ENoMemAndThePageCountedAsFailed()
    {
        var rig = Rig();
        var (p, list) = IsolatedBalloonPage(rig);

        int rc = rig.Migrate.MigratePages(list, _ => -1, null, MigrateMode.Sync);

        Assert.That(rc, Is.EqualTo(MigrateRc.ENoMem));
        Assert.That(rig.VmStat.Event(VmEvent.PgmigrateFail), Is.EqualTo(1), "-ENOMEM: nr_failed++");
        rig.Migrate.PutbackMovablePages(list);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { p }));
    }

    [Test]
    public void BalloonPageDequeue_v4_8_IsolatedPagesAreOffTheList_DequeueTakesOnlyListedOnes()
    {
        var rig = Rig();
        rig.Driver.FillBalloon(2);
        var (p, q) = (rig.BalloonList()[0], rig.BalloonList()[1]);
        Assert.That(rig.IsolateIntoMigrateList(q, out _), Is.True);
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(p));
        Assert.That(rig.Balloon.Dequeue(), Is.EqualTo(-1), "the isolated page is not on the list; isolated_pages says it is not lost");
        Assert.That(rig.Count(ReportKind.VmBug), Is.Zero);
    }

    /// <summary>
    /// Runs the migration of the balloon's only page on CPU 1 until __unmap_and_move has unlocked the new page (now in
    /// the balloon), then leak_balloon on CPU 0 to completion (it dequeues and releases the new page), then the rest of
    /// the migration: the window of the 2019 stable fix. Watches whether the new page is ever put on an LRU list (an
    /// idle third task keeps the strategy asked at every preemption point).
    /// </summary>
    private sealed class DequeueNewpageInTheWindow(BalloonRig rig, int page) : IScheduleStrategy
    {
        private int _newpage = -1;

        public bool Hit => _newpage >= 0;
        public bool NewpageOnLru { get; private set; }

        public void Start(IReadOnlyList<SimTask> tasks) { }

        public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
        {
            var leak = runnable.FirstOrDefault(t => t.Id == 0);
            var migrate = runnable.FirstOrDefault(t => t.Id == 1);
            if (!Hit && migrate is not null && migrate.Path.Snapshot() is [.., "__unmap_and_move"]
                && rig.BalloonList() is [var newpage] && newpage != page && !rig.Pages.PageLocked(newpage))
                _newpage = newpage;
            NewpageOnLru |= Hit && rig.Pages.PageLru(_newpage);
            return (Hit ? leak : migrate) ?? migrate ?? runnable[0];
        }
    }

    [TestCase("redesign", true)]
    [TestCase("movable", false)]
    public void NewpageDequeuedAfterUnlock_v4_8_TagSurvivesTheDequeue_PutPage_v318_DetourThroughTheLru(string design, bool detour)
    {
        var rig = new BalloonRig(design);
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        var strategy = new DequeueNewpageInTheWindow(rig, p);

        var outcome = rig.Scheduler.Run([new SimTask(0, 0, "leak_balloon", () => rig.Driver.LeakBalloon(1)),
            new SimTask(1, 1, "migrate", () => rig.MigrateBalloonPage(p)), new SimTask(2, 0, "idle", () => { })], strategy);
        rig.Check.Run();

        Assert.That(outcome.Completed && strategy.Hit, Is.True, "leak_balloon ran in the window");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate) + rig.VmStat.Event(VmEvent.BalloonDeflate), Is.EqualTo(2), "migrated, then the new page dequeued");
        Assert.That(strategy.NewpageOnLru, Is.EqualTo(detour),
            "v3.18 tests PageBalloon(newpage), gone with the dequeue: putback_lru_page; v4.8 tests __PageMovable(newpage), which the dequeue leaves: put_page");
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "either way the page is freed once: v3.18's detour is harmless with the LRU-aware put_page");
        Assert.That(rig.Host.Ballooned + rig.Driver.NumPages, Is.Zero);
    }
}
