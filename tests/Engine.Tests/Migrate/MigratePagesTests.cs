using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Migrate;

/// <summary>migrate_pages / unmap_and_move / __unmap_and_move / move_to_new_page / putback_movable_pages (v3.16).</summary>
public class MigratePagesTests
{
    /// <summary>A guest with one anon process and one file of 1 MiB each.</summary>
    private static Rig Guest(int cpus = 1)
    {
        var rig = Rig.Create(64, cpus);
        rig.Sim.WorkloadAnon(1);
        rig.Sim.WorkloadFile(1);
        return rig;
    }

    private static int First(Rig rig, PageKind kind) => rig.Pages.Kind.IndexOf((byte)kind);

    /// <summary>isolate_lru_page on one page onto a new migration list (NR_ISOLATED counted).</summary>
    private static int Isolate(Rig rig, int pfn) => rig.IsolateLruPages(rig.Node.ZoneOf(pfn), 1, pfn);

    /// <summary>A get_new_page callback handing out free order-0 pages; remembers them.</summary>
    private static Func<int, int> Allocator(Rig rig, List<int> targets) => _ =>
    {
        int page = rig.Get<BuddyAllocator>().GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkMin);
        targets.Add(page);
        return page;
    };

    private static T OnCpu0<T>(Rig rig, Func<T> body) => rig.RunOnCpu0(body);

    /// <summary>Isolate <paramref name="page"/> and migrate_pages it into freshly allocated targets (returned in order).</summary>
    private static (int rc, List<int> targets, int list) MigrateOne(Rig rig, int page, MigrateMode mode, Action<int>? putNewPage = null)
    {
        var targets = new List<int>();
        int list = Isolate(rig, page);
        int rc = OnCpu0(rig, () => rig.Get<Migration>().MigratePages(list, Allocator(rig, targets), putNewPage, mode));
        return (rc, targets, list);
    }

    private static long Stat(Rig rig, ZoneStat s) => rig.VmStat.Global(s);

    [Test]
    public void MoveToNewPage_v3_16_AnonPageMovesItsDataFlagsMappingsAndLruList()
    {
        var rig = Guest();
        int page = First(rig, PageKind.Anon);
        var p = rig.Pages;
        (long token, int mapping, int index) = (p.Content[page], p.Mapping[page], p.Index[page]);
        (long free, long active, long anon) = (Stat(rig, ZoneStat.NrFreePages), Stat(rig, ZoneStat.NrActiveAnon), Stat(rig, ZoneStat.NrAnonPages));

        var (rc, targets, _) = MigrateOne(rig, page, MigrateMode.Sync);

        int newpage = targets.Single();
        Assert.That(rc, Is.Zero);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1));
        Assert.That((p.Content[newpage], p.Mapping[newpage], p.Index[newpage]), Is.EqualTo((token, mapping, index)));
        Assert.That((p.Count[newpage], p.MapCount[newpage]), Is.EqualTo((1, 0)), "the PTE's reference and mapping moved");
        const PG moved = PG.SwapBacked | PG.Uptodate | PG.Active | PG.Lru;
        Assert.That((PG)p.Flags[newpage] & moved, Is.EqualTo(moved));
        Assert.That(p.Test(newpage, PG.Locked), Is.False);
        Assert.That(p.Kind[newpage], Is.EqualTo((byte)PageKind.Anon));
        Assert.That(p.Kind[page], Is.EqualTo((byte)PageKind.Free), "the old page was freed");
        Assert.That(p.Content[page], Is.Zero);
        Assert.That((Stat(rig, ZoneStat.NrFreePages), Stat(rig, ZoneStat.NrActiveAnon), Stat(rig, ZoneStat.NrAnonPages)), Is.EqualTo((free, active, anon)));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void MigratePageMoveMapping_v3_16_FilePageMovesItsPageCacheReferenceAndLruList()
    {
        var rig = Guest();
        int page = First(rig, PageKind.File);
        var p = rig.Pages;
        long token = p.Content[page];
        (long inactive, long files) = (Stat(rig, ZoneStat.NrInactiveFile), Stat(rig, ZoneStat.NrFilePages));

        var (rc, targets, _) = MigrateOne(rig, page, MigrateMode.Async);

        int newpage = targets.Single();
        Assert.That(rc, Is.Zero);
        Assert.That(p.Content[newpage], Is.EqualTo(token));
        Assert.That((p.Count[newpage], p.MapCount[newpage]), Is.EqualTo((1, -1)), "the page cache's reference moved");
        Assert.That(p.Test(newpage, PG.Lru), Is.True);
        Assert.That(p.Test(newpage, PG.Active | PG.SwapBacked), Is.False);
        Assert.That((Stat(rig, ZoneStat.NrInactiveFile), Stat(rig, ZoneStat.NrFilePages)), Is.EqualTo((inactive, files)));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedFile), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void UnmapAndMove_v3_16_PinnedPageIsRetriedForTenPassesThenPutBack()
    {
        var rig = Guest();
        int page = First(rig, PageKind.Anon);
        var p = rig.Pages;
        p.Count[page]++; // pinned, e.g. by get_user_pages
        int returned = 0;
        var spare = rig.Get<PageLists>().NewHead();

        var (rc, targets, list) = MigrateOne(rig, page, MigrateMode.Sync, t =>
        {
            returned++;
            rig.Get<PageLists>().Add(t, spare);
        });

        Assert.That(rc, Is.EqualTo(1), "one page still asking to be retried");
        Assert.That(targets, Has.Count.EqualTo(Migration.MaxPasses));
        Assert.That(returned, Is.EqualTo(Migration.MaxPasses), "every unused target went back through put_new_page");
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess) + rig.Event(VmEvent.PgmigrateFail), Is.Zero,
            "pages still retrying after the last pass are counted neither as success nor as failure");
        Assert.That(rig.Get<PageLists>().Next(list), Is.EqualTo(page), "the page stays on the list for the caller");
        Assert.That((p.Count[page], p.MapCount[page]), Is.EqualTo((3, 0)), "the PTE was restored after each try");

        OnCpu0(rig, () => { rig.Get<Migration>().PutbackMovablePages(list); return 0; });
        Assert.That(p.Test(page, PG.Lru), Is.True);
        Assert.That(p.Count[page], Is.EqualTo(2));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void FallbackMigratePage_v3_16_DirtyPageWithoutMigratepageFailsPermanentlyOutsideSync()
    {
        var rig = Guest();
        int page = First(rig, PageKind.File);
        var p = rig.Pages;
        p.Mapping[page] = rig.Get<MappingTable>().NewAddressSpace(migratePage: MigratePageOp.None);
        p.Set(page, PG.Dirty);

        var (rc, targets, list) = MigrateOne(rig, page, MigrateMode.SyncLight);

        Assert.That(rc, Is.EqualTo(1));
        Assert.That(targets, Has.Count.EqualTo(1), "-EBUSY is not retried");
        Assert.That(rig.Event(VmEvent.PgmigrateFail), Is.EqualTo(1));
        Assert.That(rig.Get<PageLists>().Empty(list), Is.True, "a permanent failure leaves the list");
        Assert.That(p.Test(page, PG.Lru), Is.True, "and goes back to the LRU");
        Assert.That(p.Kind[targets[0]], Is.EqualTo((byte)PageKind.Free), "the unused target was freed");
        Assert.That(Stat(rig, ZoneStat.NrIsolatedFile), Is.Zero);
    }

    [Test]
    public void MigratePages_v3_16_EnomemStopsAtOnceAndLeavesThePagesListed()
    {
        var rig = Guest();
        var zone = rig.Node.ZoneOf(First(rig, PageKind.Anon));
        int list = rig.IsolateLruPages(zone, 5, First(rig, PageKind.Anon));
        var migration = rig.Get<Migration>();

        int rc = OnCpu0(rig, () => migration.MigratePages(list, _ => -1, null, MigrateMode.Sync));

        Assert.That(rc, Is.EqualTo(MigrateRc.ENoMem));
        Assert.That(rig.Get<PageLists>().Count(list, "test"), Is.EqualTo(5));
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess) + rig.Event(VmEvent.PgmigrateFail), Is.Zero);
        OnCpu0(rig, () => { migration.PutbackMovablePages(list); return 0; });
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void UnmapAndMove_v3_16_PageFreedUnderUsIsASuccessAndBothPagesAreFreed()
    {
        var rig = Guest();
        int page = First(rig, PageKind.Anon);
        var p = rig.Pages;
        var zone = rig.Node.ZoneOf(page);
        int list = Isolate(rig, page);
        long freeBefore = Stat(rig, ZoneStat.NrFreePages);
        // The owner unmaps and drops its reference while the page is isolated (zap_pte_range): only the
        // isolation reference is left; the anon mapping is cleared as the workload's free path does.
        p.MapCount[page] = -1;
        zone.Stat.Add((int)ZoneStat.NrAnonPages, -1);
        p.Mapping[page] = 0;
        p.Count[page]--;
        var targets = new List<int>();

        int rc = -1;
        // Run without the whole-memory checks: this hand-made free bypasses the workload's data ledger.
        rig.Scheduler.Run([new SimTask(0, 0, "migrate", () => rc = rig.Get<Migration>().MigratePages(list, Allocator(rig, targets), null, MigrateMode.Sync))], null);

        Assert.That(rc, Is.Zero);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1));
        Assert.That(Stat(rig, ZoneStat.NrFreePages), Is.EqualTo(freeBefore + 1), "the old page and the unused target are both free");
        Assert.That(p.Kind[targets.Single()], Is.EqualTo((byte)PageKind.Free));
        Assert.That(p.Test(targets[0], PG.Lru), Is.False);
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void MoveToNewPage_v3_16_AnotherCpuSeesNewpageMappingSetBeforeTheDataMoves()
    {
        var rig = Guest(cpus: 2);
        int page = First(rig, PageKind.Anon);
        var p = rig.Pages;
        int list = Isolate(rig, page);
        var targets = new List<int>();
        bool done = false, seen = false;
        var migrate = new SimTask(0, 0, "migrate", () =>
        {
            rig.Get<Migration>().MigratePages(list, Allocator(rig, targets), null, MigrateMode.Sync);
            done = true;
        });
        var watcher = new SimTask(1, 1, "watcher", () =>
        {
            while (!done)
            {
                foreach (int n in targets)
                    seen |= p.Mapping[n] == p.Mapping[page] && p.PageLocked(n) && p.Content[n] == 0 && p.Count[n] == 1;
                rig.Scheduler.Preempt("watcher");
            }
        });

        var outcome = rig.Sim.RunKernelPaths("window", [migrate, watcher], new RoundRobinStrategy());

        Assert.That(outcome.Completed, Is.True);
        Assert.That(seen, Is.True, "newpage: locked, _count 1, mapping = the anon_vma, no data yet");
        Assert.That(rig.Scheduler.Trace.Any(e => e.Task == "migrate" && e.Point == "move_to_new_page: newpage->mapping set"));
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1));
    }

    [Test]
    public void PutbackMovablePages_v3_16_ReturnsPagesToTheirListsAndLowersNrIsolated()
    {
        var rig = Guest();
        var zone = rig.Node.ZoneOf(First(rig, PageKind.Anon));
        var stats = rig.Sim.VmstatValues();
        // The zone's anon pages from the first one up, then its file pages (the fair zone policy spread both over the zones).
        int list = rig.IsolateLruPages(zone, 300, First(rig, PageKind.Anon));
        int total = rig.Lists.Count(list, "test"), anon = 0;
        foreach (int p in rig.Lists.Entries(list, "test")) anon += rig.Pages.Kind[p] == (byte)PageKind.Anon ? 1 : 0;
        Assume.That(anon, Is.InRange(1, total - 1), "precondition: both kinds isolated");
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.EqualTo(anon));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedFile), Is.EqualTo(total - anon));

        OnCpu0(rig, () => { rig.Get<Migration>().PutbackMovablePages(list); return 0; });

        Assert.That(rig.Get<PageLists>().Empty(list), Is.True);
        Assert.That(rig.Sim.VmstatValues(), Is.EqualTo(stats), "LRU sizes and NR_ISOLATED back where they were");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
