using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Proc;
using BalloonScript.Engine.Tests.Balloon;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The v6.1 design's balloon and migration, v4.8's non-LRU movable pages as 6.1 keeps them (6.1 mm/compaction.c
/// isolate_migratepages_block, mm/migrate.c isolate_movable_page / putback_movable_pages, mm/balloon_compaction.c
/// balloon_mops): the 6.1 migrate scanner isolates a balloon page through isolate_movable_page (PG_isolated, off the
/// balloon list, the isolation reference kept, NR_ISOLATED_* for LRU pages only).
/// </summary>
public class BalloonV6_1Tests
{
    [Test]
    public void IsolateMigratepagesBlock_v6_1_BalloonPageThroughIsolateMovablePage_PgIsolatedNotInNrIsolated()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 64);
        rig.Sim.WorkloadAnon(1 / 256.0);
        int lru = rig.Pages.Kind.AsSpan().LastIndexOf((byte)PageKind.Anon);
        rig.Driver.FillBalloon(1);
        int balloon = rig.BalloonList()[0];
        Assert.That(rig.Node.ZoneOf(lru), Is.SameAs(rig.Node.ZoneOf(balloon)), "precondition: one zone");

        var compaction = rig.Get<ICompaction>();
        var cc = compaction.NewControl(rig.Node.ZoneOf(lru), Zone.PageblockOrder, rig.Node.ZoneOf(lru).Types.Movable, MigrateMode.Sync, ignoreSkipHint: true);
        compaction.IsolateMigratepagesRange(cc, Math.Min(lru, balloon) & ~(Zone.PageblockNrPages - 1), Math.Max(lru, balloon) + 1);
        var isolated = new List<int>();
        for (int p = rig.Lists.Next(cc.MigratePages); p != cc.MigratePages; p = rig.Lists.Next(p)) isolated.Add(p);

        Assert.That(isolated, Does.Contain(lru).And.Contain(balloon));
        Assert.That(rig.Pages.PageIsolated(balloon), Is.True, "isolate_movable_page: SetPageIsolated");
        Assert.That(rig.Pages.Count[balloon], Is.EqualTo(2), "the isolation reference is kept");
        Assert.That(rig.BalloonList(), Is.Empty, "balloon_page_isolate: list_del");
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
        Assert.That(rig.Isolated(ZoneStat.NrIsolatedFile) + rig.Isolated(ZoneStat.NrIsolatedAnon),
            Is.EqualTo(isolated.Count(p => p != balloon)), "NR_ISOLATED_* counts the LRU pages only");

        rig.Migrate.PutbackMovablePages(cc.MigratePages);
        compaction.Release(cc);
        Assert.That(rig.BalloonList(), Is.EqualTo(new[] { balloon }), "balloon_page_putback: back on the list");
        Assert.That(rig.Pages.PageIsolated(balloon), Is.False);
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        Assert.That(rig.Isolated(ZoneStat.NrIsolatedFile) + rig.Isolated(ZoneStat.NrIsolatedAnon), Is.Zero);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A 6.1 balloon page is movable-tagged (__SetPageMovable(page, &amp;balloon_mops)) and /proc/kpageflags shows it with
    /// bit 23 (KPF_OFFLINE since 5.1, KPF_BALLOON before: the same bit); it migrates through the owner's migrate callback.
    /// </summary>
    [Test]
    public void BalloonPage_v6_1_MovableTaggedKpageflagsBit23_MigratedByTheOwner()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 64);
        rig.Driver.FillBalloon(1);
        int page = rig.BalloonList()[0];
        Assert.That(rig.Pages.PageMovableUnlocked(page), Is.True, "__PageMovable");
        Assert.That((rig.Get<KPageFlags>().Of(page) >> 23) & 1, Is.EqualTo(1UL));

        Assert.That(rig.MigrateBalloonPage(page), Is.EqualTo(MigrateRc.Success));
        int newpage = rig.BalloonList().Single();
        Assert.That(newpage, Is.Not.EqualTo(page));
        Assert.That(rig.Pages.PageMovableUnlocked(newpage), Is.True, "the new page is movable-tagged in turn");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(1));
        Assert.That((rig.Host.Ballooned, rig.Host.IsBallooned(newpage), rig.Host.IsBallooned(page)), Is.EqualTo((1L, true, false)));
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
