using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Migrate;

/// <summary>
/// migrate_pages / unmap_and_move / __unmap_and_move as 6.1.78 has them (<c>Migrate/V6_1</c>), each against v4.8's
/// (the <c>movable</c> design), which the <c>v6.1</c> design borrowed before.
/// </summary>
public class MigratePagesV6_1Tests
{
    /// <summary>A guest of <paramref name="design"/> with the LRU-add batches on, one anon process and one file of 1 MiB each.</summary>
    private static Rig Guest(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Pagevecs = true });
        rig.Sim.WorkloadAnon(1);
        rig.Sim.WorkloadFile(1);
        return rig;
    }

    private static int First(Rig rig, PageKind kind) => rig.Pages.Kind.IndexOf((byte)kind);

    /// <summary>A get_new_page callback handing out free order-0 pages (-1 once <paramref name="most"/> were given); remembers them.</summary>
    private static Func<int, int> Targets(Rig rig, List<int> given, int most = int.MaxValue) => _ =>
    {
        if (given.Count == most) return -1;
        int page = rig.Get<IBuddyAllocator>().GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkMin);
        given.Add(page);
        return page;
    };

    private static int MigratePages(Rig rig, int list, Func<int, int> getNewPage, MigrateMode mode) =>
        rig.RunOnCpu0(() => rig.Get<IMigration>().MigratePages(list, getNewPage, null, mode));

    private static long Stat(Rig rig, ZoneStat s) => rig.VmStat.Global(s);

    /// <summary>
    /// A page that fails for good (-EBUSY: dirty, no migratepage, not MIGRATE_SYNC): v4.8 puts it back on its LRU inside
    /// unmap_and_move; 6.1 keeps it isolated on ret_pages and splices it back onto the list for the caller's putback.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("movable", false)]
    public void PermanentFailure_StaysIsolatedOnTheListFor6_1sCaller_V48PutsItBack(string design, bool stays)
    {
        var rig = Guest(design);
        int page = First(rig, PageKind.File);
        rig.Pages.Mapping[page] = rig.Get<MappingTable>().NewAddressSpace(migratePage: MigratePageOp.None);
        rig.Pages.Set(page, PG.Dirty);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);

        int rc = MigratePages(rig, list, Targets(rig, []), MigrateMode.SyncLight);

        Assert.That(rc, Is.EqualTo(1));
        Assert.That(rig.Event(VmEvent.PgmigrateFail), Is.EqualTo(1));
        Assert.That(rig.Get<PageLists>().Count(list, "test"), Is.EqualTo(stays ? 1 : 0));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedFile), Is.EqualTo(stays ? 1 : 0));
        rig.RunOnCpu0(() => { rig.Get<IMigration>().PutbackMovablePages(list); return 0; });
        Assert.That(Stat(rig, ZoneStat.NrIsolatedFile), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// putback_movable_pages of an isolated anon page whose owner let go meanwhile, so that putback_lru_page frees it
    /// (here at once: no LRU-add batches): 6.1 lowers NR_ISOLATED_ANON before the putback, v4.8 after it, from the type
    /// of a page already freed, whose flags free_pages_prepare cleared, so NR_ISOLATED_FILE drops instead (v4.8's own
    /// slip, kept in the movable design).
    /// </summary>
    [TestCase("v6.1", 0, 0)]
    [TestCase("movable", 1, -1)]
    public void PutbackMovablePages_APageItFrees_LowersNrIsolatedAnonIn6_1(string design, long anonAfter, long fileAfter)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        rig.Sim.WorkloadAnon(1);
        int page = First(rig, PageKind.Anon);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        rig.Sim.WorkloadFree(1.0, "interleave", 0, kind: "anon"); // the process exits: the isolation holds the last reference
        Assert.That((rig.Pages.Count[page], Stat(rig, ZoneStat.NrIsolatedAnon)), Is.EqualTo((1, 1L)), "precondition");

        rig.RunOnCpu0(() => { rig.Get<IMigration>().PutbackMovablePages(list); return 0; });

        Assert.That(rig.Pages.Count[page], Is.Zero, "freed by the putback");
        Assert.That((Stat(rig, ZoneStat.NrIsolatedAnon), Stat(rig, ZoneStat.NrIsolatedFile)), Is.EqualTo((anonAfter, fileAfter)));
    }

    /// <summary>
    /// A page whose owner let go while it was isolated: 6.1 sees that before it asks for a target; v4.8 takes one first
    /// and gives it back. Either way the page counts as migrated and is freed.
    /// </summary>
    [TestCase("v6.1", 0)]
    [TestCase("movable", 1)]
    public void PageFreedUnderUs_6_1TakesNoTarget(string design, int targetsTaken)
    {
        var rig = Guest(design);
        int page = First(rig, PageKind.Anon);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        var p = rig.Pages;
        p.MapCount[page] = -1; // the owner unmaps it and drops its reference (zap_pte_range), as the v3.16 test does
        rig.Node.ZoneOf(page).Stat.Add((int)ZoneStat.NrAnonPages, -1);
        p.Mapping[page] = 0;
        p.Count[page]--;
        var given = new List<int>();

        int rc = MigratePages(rig, list, Targets(rig, given), MigrateMode.Sync);

        Assert.That(rc, Is.Zero);
        Assert.That(given, Has.Count.EqualTo(targetsTaken));
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(1));
        Assert.That(p.Kind[page], Is.EqualTo((byte)PageKind.Free));
        Assert.That(Stat(rig, ZoneStat.NrIsolatedAnon), Is.Zero);
    }

    /// <summary>
    /// -ENOMEM after a page of the same pass asked to be retried (locked by someone else, async): 6.1 counts both in
    /// pgmigrate_fail (nr_subpages + nr_retry_pages), v4.8 only the page it stopped at.
    /// </summary>
    [TestCase("v6.1", 2)]
    [TestCase("movable", 1)]
    public void Enomem_6_1CountsThePassesRetriesInPgmigrateFail(string design, long failed)
    {
        var rig = Guest(design);
        int first = First(rig, PageKind.Anon);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(first), 2, first);
        var lists = rig.Get<PageLists>();
        int head = lists.Next(list);
        Assume.That(rig.Get<PageLock>().TryLock(head), Is.True, "precondition: the first page's lock is free");

        int rc = MigratePages(rig, list, Targets(rig, [], most: 1), MigrateMode.Async);

        Assert.That(rc, Is.EqualTo(MigrateRc.ENoMem));
        Assert.That(rig.Event(VmEvent.PgmigrateFail), Is.EqualTo(failed));
        Assert.That(lists.Count(list, "test"), Is.EqualTo(2), "both stay listed");
        rig.Get<PageLock>().Unlock(head);
        rig.RunOnCpu0(() => { rig.Get<IMigration>().PutbackMovablePages(list); return 0; });
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// On success 6.1 adds the new page to the LRU while both pages are locked and drains this CPU's batch when the old
    /// page was mapped: the new page is on its LRU list at once. v4.8's putback_lru_page after unlocking leaves it in
    /// the batch until that fills or is drained.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("movable", false)]
    public void MappedPageMigrated_6_1sNewPageIsOnTheLruAtOnce(string design, bool onLru)
    {
        var (rig, newpage) = MigrateTheFirstAnonPage(design, (rig, page) =>
        {
            Assume.That(rig.Pages.PageMapped(page), Is.True);
            rig.RunOnCpu0(() => { rig.Get<Lru>().LruAddDrain(); return 0; });
        });

        Assert.That(rig.Pages.Test(newpage, PG.Lru), Is.EqualTo(onLru));
        Assert.That(rig.Pages.PageMapped(newpage), Is.True);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>folio_migrate_flags (6.1) carries PG_readahead over to the new page; v4.8's migrate_page_copy does not.</summary>
    [TestCase("v6.1", true)]
    [TestCase("movable", false)]
    public void PgReadahead_CarriedOverBy6_1Only(string design, bool carried)
    {
        var (rig, newpage) = MigrateTheFirstAnonPage(design, (rig, page) => rig.Pages.Set(page, PG.Readahead));

        Assert.That(rig.Pages.Test(newpage, PG.Readahead), Is.EqualTo(carried));
    }

    /// <summary>
    /// 6.1 keeps a young PTE's accessed bit in the migration entry (make_migration_entry_young) and restores the PTE young:
    /// the next page_referenced finds the moved page referenced. v4.8's remove_migration_pte makes an old PTE.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("movable", false)]
    public void YoungPte_KeptThroughTheMigrationEntryBy6_1Only(string design, bool referenced)
    {
        var (rig, newpage) = MigrateTheFirstAnonPage(design, (rig, page) => rig.Get<Rmap>().MarkYoung(page));

        Assert.That(rig.Get<Rmap>().PageReferenced(newpage) > 0, Is.EqualTo(referenced));
    }

    /// <summary>
    /// remove_migration_pte makes the new PTE from the entry (old in v3.16 and v4.8; young in 6.1 only if the entry was):
    /// whatever young bit the target page's last life left does not leak into it.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("movable")]
    [TestCase("v6.1")]
    public void OldPte_MigratedToAPageWhoseLastLifeLeftItYoung_StaysOld(string design)
    {
        var rig = Guest(design);
        int page = First(rig, PageKind.Anon);
        Assume.That(rig.Pages.PageMapped(page), Is.True);
        rig.Get<Rmap>().PageReferenced(page); // its own PTE old: tested and cleared
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        var given = new List<int>();
        var targets = Targets(rig, given);

        Assert.That(MigratePages(rig, list, old =>
        {
            int target = targets(old);
            rig.Get<RmapPages>().SetYoung(target, true); // left by a mapping it had before it was freed
            return target;
        }, MigrateMode.Sync), Is.Zero);

        Assert.That(rig.Get<Rmap>().PageReferenced(given.Single()), Is.Zero);
    }

    /// <summary>A guest's first anon page, after <paramref name="prepare"/>, isolated and migrated (MIGRATE_SYNC, asserted to succeed): the guest and the new page.</summary>
    private static (Rig Rig, int Newpage) MigrateTheFirstAnonPage(string design, Action<Rig, int> prepare)
    {
        var rig = Guest(design);
        int page = First(rig, PageKind.Anon);
        prepare(rig, page);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        var given = new List<int>();
        Assert.That(MigratePages(rig, list, Targets(rig, given), MigrateMode.Sync), Is.Zero);
        return (rig, given.Single());
    }
}
