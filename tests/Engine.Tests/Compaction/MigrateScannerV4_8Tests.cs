using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V4_8;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>
/// The v4.8 migrate scanner, isolate_migratepages_block (4.8.18 mm/compaction.c; docs/kernel/movable-v4.8.md §3.2),
/// where it differs from v3.16: lru_lock dropped every 32 PFNs, NR_ISOLATED_* for LRU pages only, async direct
/// compaction giving up an order-aligned block at its first failure, the skip bit only when nothing was isolated.
/// </summary>
public class MigrateScannerV4_8Tests
{
    private static Rig Guest(string design = "movable") => Rig.Create(TestOptions.Classic(64, 2, 1, design));

    /// <summary>The first run of <paramref name="n"/> anon pages on the LRU whose first PFN is <paramref name="phase"/> modulo 32.</summary>
    private static int AnonRun(Rig rig, int n, int phase)
    {
        for (int s = 0; s + n <= rig.Pages.NrPages; s++)
            if (s % 32 == phase && Enumerable.Range(s, n).All(p => rig.Pages.Kind[p] == (byte)PageKind.Anon && rig.Pages.PageLru(p)))
                return s;
        throw new InvalidOperationException("no such run of anon pages");
    }

    private static CompactControl Control(Rig rig, int pfn, int order, MigrateMode mode, bool direct = false, bool ignoreSkipHint = true) =>
        new(rig.Lists, rig.Node.ZoneOf(pfn), order, MigrateType.Movable, mode, ignoreSkipHint) { DirectCompaction = direct };

    private static List<int> Isolated(Rig rig, CompactControl cc)
    {
        var l = new List<int>();
        for (int p = rig.Lists.Next(cc.MigratePages); p != cc.MigratePages; p = rig.Lists.Next(p)) l.Add(p);
        return l;
    }

    private static void PutBack(Rig rig, CompactControl cc)
    {
        rig.Get<IMigration>().PutbackMovablePages(cc.MigratePages);
        rig.Get<ICompaction>().Release(cc);
    }

    /// <summary>Always the scan while it can run; an idle second task only makes the run a switching one, which records a trace.</summary>
    private sealed class ScanFirst : IScheduleStrategy
    {
        public void Start(IReadOnlyList<SimTask> tasks) { }
        public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step) => runnable.FirstOrDefault(t => t.Id == 0) ?? runnable[0];
    }

    [TestCase("movable", 2)]
    [TestCase("legacy", 1)]
    public void IsolateMigratepagesBlock_v4_8_DropsLruLockAtEvery32PfnBoundary_v316_OnlyWhenContended(string design, int unlocks)
    {
        var rig = Guest(design);
        rig.Sim.WorkloadAnon(1);
        int start = AnonRun(rig, 32, phase: 16); // 32 LRU pages across a 32-PFN boundary
        var cc = Control(rig, start, Zone.PageblockOrder, MigrateMode.Sync);

        rig.Scheduler.Run([new SimTask(0, 0, "scan", () => rig.Get<IMigrateScanner>().IsolateMigratepagesRange(cc, start, start + 32)),
            new SimTask(1, 1, "idle", () => { })], new ScanFirst());

        string unlock = rig.Node.ZoneOf(start).LruLock.Name + " unlock";
        Assert.That(Isolated(rig, cc), Has.Count.EqualTo(32));
        Assert.That(rig.Scheduler.Trace.Count(t => t.Task == "scan" && t.Point == unlock), Is.EqualTo(unlocks));
        PutBack(rig, cc);
    }

    [Test]
    public void IsolateMigratepagesBlock_v4_8_y_NrIsolatedCountsTheLruPageOnly_BalloonPageNowhere_v316CountsBoth()
    {
        foreach (var (design, file) in new[] { ("movable", 0L), ("legacy", 1L) })
        {
            var rig = Guest(design);
            rig.Sim.WorkloadAnon(1 / 256.0);
            int lru = rig.Pages.Kind.AsSpan().LastIndexOf((byte)PageKind.Anon);
            rig.Sim.BalloonInflate(1 / 256.0);
            var cc = Control(rig, lru, Zone.PageblockOrder, MigrateMode.Sync);
            rig.Get<IMigrateScanner>().IsolateMigratepagesRange(cc, lru, lru + 2);

            Assert.That(Isolated(rig, cc), Has.Count.EqualTo(2), design);
            Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedAnon), Is.EqualTo(1), design);
            Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedFile), Is.EqualTo(file), $"{design}: the balloon page in NR_ISOLATED_FILE (v3.16 acct_isolated)");
            PutBack(rig, cc);
            Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedAnon) + rig.VmStat.Global(ZoneStat.NrIsolatedFile), Is.Zero, $"{design}: the books balance");
        }
    }

    [TestCase(true, 0)]
    [TestCase(false, 9)]
    public void IsolateMigratepagesBlock_v4_8_AsyncDirectCompaction_GivesUpTheOrderBlockAtItsFirstFailure(bool direct, int isolated)
    {
        var rig = Guest();
        rig.Sim.WorkloadAnon(1);
        int start = AnonRun(rig, 10, phase: 0);
        int blockEnd = (start & ~(Zone.PageblockNrPages - 1)) + Zone.PageblockNrPages;
        rig.Pages.Count[start + 5]++; // a pinned anon page: more references than mappings
        var cc = Control(rig, start, Zone.PageblockOrder, MigrateMode.Async, direct);

        rig.RunOnCpu0(() => rig.Get<IMigrateScanner>().IsolateMigratepagesRange(cc, start, start + 10));

        Assert.That(Isolated(rig, cc), Has.Count.EqualTo(isolated), direct
            ? "async direct: the pinned page fails the order-9 block; the five isolated before it are put back"
            : "kcompactd or manual: the pinned page is only skipped");
        Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedAnon), Is.EqualTo(isolated), "what was isolated and put back is uncounted again");
        Assert.That(blockEnd, Is.GreaterThan(start + 10), "precondition: the range lies in one order-9 block");
        rig.Pages.Count[start + 5]--;
        PutBack(rig, cc);
    }

    [Test]
    public void IsolateMigratepagesBlock_v4_8_PageblockSkipBitOnlyWhenNothingWasIsolated()
    {
        var rig = Guest();
        rig.Sim.BalloonInflate(rig.Get<Virtio.IVirtioBalloon>().InflatablePages() / 256.0 / 2);
        var pages = rig.Pages;
        var zone = rig.Node.LargestZone;
        int block = Enumerable.Range(0, zone.SpannedPages / Zone.PageblockNrPages).Select(i => zone.StartPfn + i * Zone.PageblockNrPages)
            .First(b => Enumerable.Range(b, Zone.PageblockNrPages).All(p => pages.Kind[p] == (byte)PageKind.Balloon));
        var isolation = rig.Get<MovablePageIsolation>();
        int held = rig.Lists.NewHead();
        for (int p = block; p < block + Zone.PageblockNrPages; p++)
            if (isolation.IsolateMovablePage(p, IsolateMode.None)) rig.Lists.Add(p, held); // another compactor has them all

        var cc = Control(rig, block, -1, MigrateMode.Sync, ignoreSkipHint: false);
        rig.Get<IMigrateScanner>().IsolateMigratepagesRange(cc, block, block + Zone.PageblockNrPages);
        Assert.That(Isolated(rig, cc), Is.Empty, "every balloon page PG_isolated: __PageMovable && !PageIsolated fails");
        Assert.That(zone.PageblockSkip[zone.PageblockIndex(block)], Is.True);
        PutBack(rig, cc);

        zone.PageblockSkip[zone.PageblockIndex(block)] = false;
        int one = rig.Lists.Next(held);
        rig.Lists.Del(one);
        int single = rig.Lists.NewHead();
        rig.Lists.Add(one, single);
        rig.Get<IMigration>().PutbackMovablePages(single); // one page back on the balloon list
        cc = Control(rig, block, -1, MigrateMode.Sync, ignoreSkipHint: false);
        rig.Get<IMigrateScanner>().IsolateMigratepagesRange(cc, block, block + Zone.PageblockNrPages);
        Assert.That(Isolated(rig, cc), Is.EqualTo(new[] { one }));
        Assert.That(zone.PageblockSkip[zone.PageblockIndex(block)], Is.False, "something was isolated: no skip bit");
        PutBack(rig, cc);
        rig.Get<IMigration>().PutbackMovablePages(held);
        rig.Get<Engine.Sanitizers.BalloonCheck>().Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
