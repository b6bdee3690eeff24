using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>isolate_migratepages_range (v3.16): pageblock types, need_resched, lru_lock drops, too_many_isolated.</summary>
public class MigrateScannerTests
{
    private static CompactControl Control(Rig rig, Zone zone, MigrateMode mode, bool ignoreSkipHint = false) =>
        new(rig.Get<PageLists>(), zone, -1, MigrateType.Movable, mode, ignoreSkipHint);

    /// <summary>
    /// The lower half of the zone's pageblocks relabelled UNMOVABLE, as an unmovable allocation that fell back
    /// into them would have left them (try_to_steal_freepages); their anon pages stay movable.
    /// </summary>
    private static (Rig rig, Zone zone, int boundary) HalfUnmovable()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        int boundary = zone.StartPfn + (zone.SpannedPages / 2 & ~(Zone.PageblockNrPages - 1));
        for (int pfn = zone.StartPfn; pfn < boundary; pfn += Zone.PageblockNrPages)
            zone.SetPageblockMigratetype(pfn, MigrateType.Unmovable);
        return (rig, zone, boundary);
    }

    private static int MovedBelow(Dictionary<long, int> before, Dictionary<long, int> after, int start, int boundary) =>
        before.Count(kv => kv.Value >= start && kv.Value < boundary && after[kv.Key] != kv.Value);

    [Test]
    public void IsolateMigratepagesRange_v3_16_AsyncSkipsNonMovablePageblocksWithoutMarkingThem()
    {
        var (rig, zone, boundary) = HalfUnmovable();
        var before = rig.Tokens();
        var cc = Control(rig, zone, MigrateMode.Async);

        var status = rig.RunOnCpu0(() => rig.Get<Compactor>().CompactZone(cc));

        var after = rig.Tokens();
        Assert.That(status, Is.EqualTo(CompactStatus.Complete));
        Assert.That(MovedBelow(before, after, zone.StartPfn, boundary), Is.Zero, "async moved pages out of UNMOVABLE pageblocks");
        Assert.That(MovedBelow(before, after, boundary, zone.EndPfn), Is.GreaterThan(0), "async compacts MOVABLE pageblocks");
        for (int pfn = zone.StartPfn; pfn < boundary; pfn += Zone.PageblockNrPages)
            Assert.That(zone.PageblockSkip[zone.PageblockIndex(pfn)], Is.False, "set_unsuitable = false for the async type check");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void IsolateMigratepagesRange_v3_16_SyncMigratesFromNonMovablePageblocks()
    {
        var (rig, zone, boundary) = HalfUnmovable();
        var before = rig.Tokens();
        var cc = Control(rig, zone, MigrateMode.Sync);

        var status = rig.RunOnCpu0(() => rig.Get<Compactor>().CompactZone(cc));

        Assert.That(status, Is.EqualTo(CompactStatus.Complete));
        Assert.That(MovedBelow(before, rig.Tokens(), zone.StartPfn, boundary), Is.GreaterThan(0));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void CompactShouldAbort_v3_16_AsyncGivesUpOnNeedReschedWhereSyncReschedules()
    {
        // A slice of 1 µs at HZ=1000: need_resched is set at the first 1 ms tick after the compaction starts. The
        // scanner must be the first to see it (migrate_pages' cond_resched would start a new slice): at 128 MiB the
        // async run is still isolating at that tick.
        var ticking = TestOptions.Classic(128, seed: 1) with { Hz = 1000, TimesliceMs = 0.001 };
        var async = Rig.Create(ticking).FragmentedAnon();
        var asyncZone = async.Node.LargestZone;
        var asyncCc = Control(async, asyncZone, MigrateMode.Async);
        var sync = Rig.Create(ticking).FragmentedAnon();
        var syncZone = sync.Node.LargestZone;
        var syncCc = Control(sync, syncZone, MigrateMode.Sync);

        var asyncStatus = async.RunOnCpu0(() => async.Get<Compactor>().CompactZone(asyncCc));
        var syncStatus = sync.RunOnCpu0(() => sync.Get<Compactor>().CompactZone(syncCc));

        Assert.That(asyncStatus, Is.EqualTo(CompactStatus.Partial));
        Assert.That(asyncCc.Contended, Is.True);
        Assert.That(syncStatus, Is.EqualTo(CompactStatus.Complete));
        Assert.That(syncCc.Contended, Is.False);
        Assert.That(sync.Event(VmEvent.PgmigrateSuccess), Is.GreaterThan(async.Event(VmEvent.PgmigrateSuccess)));
        Assert.That(async.Sim.Reports, Is.Empty);
        Assert.That(sync.Sim.Reports, Is.Empty);
    }

    private const string DropPoint = "isolate_migratepages_range: lru_lock released at pfn ";

    /// <summary>Compaction (sync, cpu 0) against a second CPU that takes lru_lock <paramref name="grabs"/> times.</summary>
    private static (Rig rig, IReadOnlyList<TraceEntry> trace, long migrated) CompactAgainstLruLockUser(int grabs)
    {
        var rig = Rig.Create(64, cpus: 2).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        var cc = Control(rig, zone, MigrateMode.Sync);
        var compact = new SimTask(0, 0, "compact", () => rig.Get<Compactor>().CompactZone(cc));
        var other = new SimTask(1, 1, "lru user", () =>
        {
            for (int i = 0; i < grabs; i++)
            {
                zone.LruLock.Lock();
                zone.LruLock.Unlock();
            }
            for (int i = 0; i < 20; i++) rig.Scheduler.Preempt("lru user: other work");
        });
        var outcome = rig.Sim.RunKernelPaths("contend", [compact, other], new RoundRobinStrategy());
        Assert.That(outcome.Completed, Is.True, outcome.Deadlock);
        return (rig, rig.Scheduler.Trace, rig.Event(VmEvent.PgmigrateSuccess));
    }

    [Test]
    public void IsolateMigratepagesRange_v3_16_DropsContendedLruLockAt32PfnBoundaryAndRetakesIt()
    {
        var (rig, trace, migrated) = CompactAgainstLruLockUser(grabs: 50);
        string lockName = rig.Node.LargestZone.LruLock.Name;

        var drops = trace.Select((e, i) => (e, i)).Where(x => x.e.Task == "compact" && x.e.Point.StartsWith(DropPoint)).ToList();

        Assert.That(drops, Is.Not.Empty, "a waiter on lru_lock must make the scanner drop it");
        foreach (var (e, _) in drops)
            Assert.That(int.Parse(e.Point[DropPoint.Length..]) % CompactControl.ClusterMax, Is.Zero, e.Point);
        int firstDrop = drops[0].i;
        Assert.That(trace.Skip(firstDrop).Any(e => e.Task == "lru user" && e.Point == lockName + " unlock"), Is.True,
            "the waiting CPU gets lru_lock after the drop");
        Assert.That(trace.Skip(firstDrop).Any(e => e.Task == "compact" && e.Point == lockName), Is.True,
            "the scanner takes lru_lock again lazily");
        Assert.That(migrated, Is.GreaterThan(0));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void IsolateMigratepagesRange_v3_16_KeepsUncontendedLruLockAcross32PfnBoundaries()
    {
        var (_, trace, migrated) = CompactAgainstLruLockUser(grabs: 0);

        Assert.That(trace.Where(e => e.Point.StartsWith(DropPoint)), Is.Empty);
        Assert.That(migrated, Is.GreaterThan(0));
    }

    [Test]
    public void TooManyIsolated_v3_16_AsyncAbortsAtOnce()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        rig.IsolateLruPages(zone, (int)(zone.Stat[(int)ZoneStat.NrActiveAnon] * 2 / 3));
        Assert.That(MigrateScanner.TooManyIsolated(zone), Is.True, "precondition");
        long stepBefore = rig.Scheduler.Step;
        var cc = Control(rig, zone, MigrateMode.Async);

        var status = rig.RunOnCpu0(() => rig.Get<Compactor>().CompactZone(cc));

        Assert.That(status, Is.EqualTo(CompactStatus.Partial));
        Assert.That(rig.Event(VmEvent.CompactMigrateScanned), Is.Zero);
        Assert.That(rig.Scheduler.Step - stepBefore, Is.LessThan(CompactLocking.CongestionWaitLimit), "async does not wait");
    }

    [Test]
    public void TooManyIsolated_v3_16_SyncWaitsInCongestionWaitThenGivesUpWhenNobodyPutsBack()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        rig.IsolateLruPages(zone, (int)(zone.Stat[(int)ZoneStat.NrActiveAnon] * 2 / 3));
        long stepBefore = rig.Scheduler.Step;
        var cc = Control(rig, zone, MigrateMode.Sync);

        var status = rig.RunOnCpu0(() => rig.Get<Compactor>().CompactZone(cc));

        Assert.That(status, Is.EqualTo(CompactStatus.Partial));
        Assert.That(rig.Event(VmEvent.CompactMigrateScanned), Is.Zero);
        Assert.That(rig.Scheduler.Step - stepBefore, Is.GreaterThanOrEqualTo(CompactLocking.CongestionWaitLimit));
    }

    [Test]
    public void TooManyIsolated_v3_16_SyncWaitsUntilAnotherCpuPutsPagesBack()
    {
        var rig = Rig.Create(64, cpus: 2).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        int isolatedList = rig.IsolateLruPages(zone, (int)(zone.Stat[(int)ZoneStat.NrActiveAnon] * 2 / 3));
        var cc = Control(rig, zone, MigrateMode.Sync);
        var compact = new SimTask(0, 0, "compact", () => rig.Get<Compactor>().CompactZone(cc));
        var other = new SimTask(1, 1, "other migration", () =>
        {
            for (int i = 0; i < 3; i++) rig.Scheduler.Preempt("other migration: busy");
            rig.Get<Migration>().PutbackMovablePages(isolatedList);
        });

        var outcome = rig.Sim.RunKernelPaths("throttle", [compact, other], new RoundRobinStrategy());
        Assert.That(outcome.Completed, Is.True, outcome.Deadlock);

        var trace = rig.Scheduler.Trace;
        int firstWait = trace.ToList().FindIndex(e => e.Task == "compact" && e.Point == "congestion_wait");
        int firstPutback = trace.ToList().FindIndex(e => e.Task == "other migration" && e.Point.StartsWith(zone.LruLock.Name));
        Assert.That(firstWait, Is.GreaterThanOrEqualTo(0), "sync compaction waited");
        Assert.That(firstWait, Is.LessThan(firstPutback));
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.GreaterThan(0), "compaction went on once pages were put back");
        Assert.That(cc.Contended, Is.False);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// A guest whose zone, from its second pageblock on, has <paramref name="skipped"/> skip-marked pageblocks, then as
    /// many UNMOVABLE ones, then a MOVABLE one to scan; and a direct compaction's control (order 9) at the second block.
    /// </summary>
    private static (Rig Rig, Zone Zone, CompactControl Cc) SkippedThenUnmovable(int skipped, MigrateMode mode, SimulationOptions? options = null)
    {
        var rig = Rig.Create(options ?? TestOptions.Classic(64, seed: 1)).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        int first = MigrateScanner.AlignUp(zone.StartPfn + 1, Zone.PageblockNrPages);
        for (int b = 0; b < skipped; b++) zone.PageblockSkip[zone.PageblockIndex(first + b * Zone.PageblockNrPages)] = true;
        for (int b = skipped; b < 2 * skipped; b++) zone.SetPageblockMigratetype(first + b * Zone.PageblockNrPages, MigrateType.Unmovable);
        var cc = new CompactControl(rig.Get<PageLists>(), zone, 9, MigrateType.Movable, mode, ignoreSkipHint: false)
        {
            MigratePfn = first,
            FreePfn = zone.EndPfn & ~(Zone.PageblockNrPages - 1),
        };
        return (rig, zone, cc);
    }

    /// <summary>What a turn-by-turn compaction and the pass-over must leave alike.</summary>
    private static object State(Rig rig, Zone zone, CompactControl cc) => (cc.MigratePfn, cc.NrMigratepages,
        string.Join(",", zone.CompactCachedMigratePfn), string.Join("", zone.PageblockSkip.Select(s => s ? 1 : 0)),
        rig.Event(VmEvent.CompactMigrateScanned), rig.Event(VmEvent.CompactIsolated), string.Join(",", zone.Stat.Save()));

    [TestCase(true, 8, 16)]
    [TestCase(false, 8, 8)]
    public void PassOverUnsuitablePageblocks_v3_16_IsWhatTheTurnsOneByOneDo(bool async, int skipped, int passed)
    {
        var mode = async ? MigrateMode.Async : MigrateMode.SyncLight;
        var (rig, zone, cc) = SkippedThenUnmovable(skipped, mode);
        var (turns, turnsZone, turnsCc) = SkippedThenUnmovable(skipped, mode);
        var scanner = rig.Get<IMigrateScanner>();
        var turnScanner = turns.Get<IMigrateScanner>();

        int blocks = rig.RunOnCpu0(() => scanner.PassOverUnsuitablePageblocks(zone, cc));
        for (int t = 0; t < passed; t++)
            Assert.That(turns.RunOnCpu0(() => turnScanner.IsolateMigratepages(turnsZone, turnsCc)), Is.EqualTo(IsolateMigrate.Success));

        Assert.That(blocks, Is.EqualTo(passed), "async also passes over the UNMOVABLE blocks, sync scans them");
        Assert.That(turnsCc.NrMigratepages, Is.Zero, "the turns passed over");
        Assert.That(State(rig, zone, cc), Is.EqualTo(State(turns, turnsZone, turnsCc)));
        Assert.That(rig.RunOnCpu0(() => scanner.PassOverUnsuitablePageblocks(zone, cc)), Is.Zero, "the next block is scanned");
    }

    /// <summary>
    /// Random mixes of skip-marked, UNMOVABLE and plain MOVABLE pageblocks, a random free scanner position and mode: from
    /// every block, the pass-over leaves what as many turns of isolate_migratepages leave (the guest restored between).
    /// </summary>
    [Test]
    public void PassOverUnsuitablePageblocks_v3_16_AnyMixOfBlocks_IsTheTurnsOneByOne()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        var scanner = rig.Get<IMigrateScanner>();
        var lists = rig.Get<PageLists>();
        var rng = new Random(7);
        int first = MigrateScanner.AlignUp(zone.StartPfn + 1, Zone.PageblockNrPages), passedSome = 0;
        for (int round = 0; round < 40; round++)
        {
            var mode = rng.Next(2) == 0 ? MigrateMode.Async : MigrateMode.SyncLight;
            for (int pfn = first; pfn + Zone.PageblockNrPages <= zone.EndPfn; pfn += Zone.PageblockNrPages)
            {
                zone.PageblockSkip[zone.PageblockIndex(pfn)] = rng.Next(3) > 0;
                zone.SetPageblockMigratetype(pfn, rng.Next(3) == 0 ? MigrateType.Unmovable : MigrateType.Movable);
            }
            int from = first + rng.Next((zone.EndPfn - first) / Zone.PageblockNrPages) * Zone.PageblockNrPages;
            int freePfn = from + rng.Next(1, (zone.EndPfn - from) / Zone.PageblockNrPages + 1) * Zone.PageblockNrPages;
            CompactControl Control() => new(lists, zone, 9, MigrateType.Movable, mode, ignoreSkipHint: false) { MigratePfn = from, FreePfn = freePfn };
            var before = rig.Sim.Snapshot();

            var cc = Control();
            int blocks = rig.RunOnCpu0(() => scanner.PassOverUnsuitablePageblocks(zone, cc));
            var passedOver = State(rig, zone, cc);
            rig.Sim.Restore(before);
            var turnsCc = Control();
            for (int t = 0; t < blocks; t++)
                Assert.That(rig.RunOnCpu0(() => scanner.IsolateMigratepages(zone, turnsCc)), Is.EqualTo(IsolateMigrate.Success), $"round {round}, turn {t}");

            Assert.That(turnsCc.NrMigratepages, Is.Zero, $"round {round}: the turns passed over");
            Assert.That(passedOver, Is.EqualTo(State(rig, zone, turnsCc)), $"round {round}: {blocks} blocks from pfn {from}, {mode}");
            rig.Sim.Restore(before);
            if (blocks > 0) passedSome++;
        }
        Assert.That(passedSome, Is.GreaterThan(10), "most rounds start on a block passed over");
    }

    [Test]
    public void PassOverUnsuitablePageblocks_v3_16_LeavesATurnThatWouldRescheduleOrThrottle()
    {
        // need_resched (a 1 µs slice, HZ=1000, the path run past the first tick): the turn's compact_should_abort acts.
        var ticking = TestOptions.Classic(64, seed: 1) with { Hz = 1000, TimesliceMs = 0.001 };
        var (rig, zone, cc) = SkippedThenUnmovable(8, MigrateMode.Async, ticking);
        var clock = rig.Get<SimClock>();
        int passed = rig.RunOnCpu0(() =>
        {
            for (int i = 0; i < 1_000_000 && !clock.NeedResched(); i++) rig.Scheduler.Preempt("the path runs on"); // time passes
            return clock.NeedResched() ? rig.Get<IMigrateScanner>().PassOverUnsuitablePageblocks(zone, cc) : -1;
        });
        Assert.That(passed, Is.Zero);

        // too_many_isolated: the turn throttles (async gives up).
        var (crowded, crowdedZone, crowdedCc) = SkippedThenUnmovable(8, MigrateMode.Async);
        crowded.IsolateLruPages(crowdedZone, int.MaxValue);
        Assert.That(MigrateScanner.TooManyIsolated(crowdedZone));
        int from = crowdedCc.MigratePfn;
        Assert.That(crowded.RunOnCpu0(() => crowded.Get<IMigrateScanner>().PassOverUnsuitablePageblocks(crowdedZone, crowdedCc)), Is.Zero);
        Assert.That(crowdedCc.MigratePfn, Is.EqualTo(from), "nothing passed over");
    }
}
