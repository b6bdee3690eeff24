using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Explore.Scenarios;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;
using CompactControl = BalloonScript.Engine.Compaction.V6_1.CompactControl;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// 6.1 compaction (docs/kernel/v6.1.md §3; mm/compaction.c of 6.1.78): fast_find_migrateblock, non-LRU movable pages
/// through isolate_movable_page, compaction_suitable's fragmentation index for costly orders only, direct compaction
/// in the slow path.
/// </summary>
public class CompactionV6_1Tests
{
    /// <summary>
    /// freelist_scan_limit (6.1): (COMPACT_CLUSTER_MAX &gt;&gt; min(BITS_PER_LONG − 1, fast_search_fail)) + 1 on an unsigned
    /// long: 33, 17, … 2 for 0–5 failures, then 1 for good (32 failures too: a shift of 32 is not a shift of 0).
    /// </summary>
    [TestCase(0, 33)]
    [TestCase(1, 17)]
    [TestCase(5, 2)]
    [TestCase(6, 1)]
    [TestCase(32, 1)]
    [TestCase(37, 1)]
    [TestCase(100, 1)]
    public void FreelistScanLimit_v6_1_ShiftsALong(int fastSearchFail, int limit)
    {
        var rig = RigV6_1.Create();
        var cc = new CompactControl(rig.Lists, rig.Zone("DMA"), 9, Gfp.HighUserMovable, MigrateMode.SyncLight, ignoreSkipHint: false)
        {
            FastSearchFail = fastSearchFail,
        };
        Assert.That(MigrateScanner.FreelistScanLimit(cc), Is.EqualTo(limit));
    }

    /// <summary>
    /// isolate_migratepages_block (6.1) with too many pages isolated: reclaim_throttle(VMSCAN_THROTTLE_ISOLATED) sleeps a
    /// user task HZ/50 a round but only reschedules kcompactd (a kthread other than kswapd); after the simulation's 100
    /// rounds with nothing changing, the scan gives up (-EINTR).
    /// </summary>
    [TestCase(false, 2000.0)]
    [TestCase(true, 0.0)]
    public void IsolateMigratepagesBlock_v6_1_TooManyIsolated_SleepsAUserTask_OnlyReschedulesAKthread(bool kthread, double sleptMs)
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, 1 << 20); // as if reclaimers held them
        var cc = new CompactControl(rig.Lists, zone, -1, Gfp.HighUserMovable, MigrateMode.SyncLight, ignoreSkipHint: true);
        double before = rig.Sim.ClockMs;
        int ret = 0;
        var task = new Engine.Sched.SimTask(0, 0, "test", () => ret = rig.Get<MigrateScanner>().IsolateMigratepagesBlock(cc, zone.StartPfn,
            zone.StartPfn + Zone.PageblockNrPages, IsolateMode.None)) { Flags = kthread ? Engine.Sched.PF.Kthread : Engine.Sched.PF.None };
        rig.Sim.RunKernelPaths("test", [task], null);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, -(1 << 20));

        Assert.That(ret, Is.EqualTo(MigrateScanner.EIntr));
        Assert.That(rig.Sim.ClockMs - before, Is.EqualTo(sleptMs).Within(50.0), "100 rounds of HZ/50 (20 ms), or of cond_resched");
        rig.Compactor.Release(cc);
    }

    /// <summary>
    /// fast_find_migrateblock (6.1): a THP-sized request starting at the zone start looks at the MOVABLE free lists of
    /// orders 8 down to 3 for a block in the first half of the scan space (below pageblock 3 of the 16 MiB zone); the
    /// free order-4 block at pfn 1088 makes pageblock 2 the start, marked skip; the scan then covers that block only.
    /// A request of order 3 scans linearly from the zone start.
    /// </summary>
    [TestCase(9, 1536, new[] { false, false, true })]
    [TestCase(3, 512, new[] { true, false, false })]
    public void FastFindMigrateblock_v6_1_ThpRequestStartsInAPageblockWithFreePages(int order, int migratePfnAfter, bool[] skip)
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        rig.Release(1088, 4);
        var cc = new CompactControl(rig.Lists, zone, order, Gfp.HighUserMovable, MigrateMode.SyncLight, ignoreSkipHint: false)
        {
            DirectCompaction = true,
        };
        (cc.MigratePfn, cc.FreePfn) = (0, 3584);
        var result = IsolateMigrate.Abort;
        rig.RunOnCpu0(() => result = rig.Get<MigrateScanner>().IsolateMigratepages(cc));
        Assert.That(result, Is.EqualTo(IsolateMigrate.None), "kernel pages only: nothing to isolate");
        Assert.That(cc.MigratePfn, Is.EqualTo(migratePfnAfter));
        Assert.That(zone.PageblockSkip.Take(3), Is.EqualTo(skip));
        rig.Compactor.Release(cc);
    }

    /// <summary>
    /// isolate_freepages (6.1): for a THP-sized request, fast_isolate_freepages finds the free order-3 block at pfn 3000
    /// in the top quarter of the scan space (at or above pageblock 5) on the MOVABLE order-3 list and takes it whole,
    /// leaving the linear scanner's position alone; compact_memory (order -1) has no fast search and the linear scan
    /// walks down from the last pageblock, stopping in block 5 right after the pages it took. Either way the block is
    /// split into isolated order-0 pages.
    /// </summary>
    [TestCase(9, 3584)]
    [TestCase(-1, 3008)]
    public void IsolateFreepages_v6_1_FastSearchFirstForRealOrders(int order, int freePfnAfter)
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        rig.Release(0, 9);    // free pages for the watermark; a whole free pageblock is no migration target
        rig.Release(3000, 3);
        var cc = new CompactControl(rig.Lists, zone, order, Gfp.HighUserMovable, MigrateMode.SyncLight, ignoreSkipHint: false)
        {
            DirectCompaction = true,
        };
        (cc.MigratePfn, cc.FreePfn, cc.NrMigratepages) = (0, 3584, 8);
        rig.RunOnCpu0(() => rig.Get<FreeScanner>().IsolateFreepages(cc));
        Assert.That(cc.NrFreepages, Is.EqualTo(8));
        Assert.That(cc.FreePfn, Is.EqualTo(freePfnAfter));
        var taken = new List<int>();
        for (int p = rig.Lists.Next(cc.FreePages); p != cc.FreePages; p = rig.Lists.Next(p)) taken.Add(p);
        Assert.That(taken, Is.EqualTo(Enumerable.Range(3000, 8).Reverse()), "split_map_pages: the last page first");
        Assert.That(taken.All(p => rig.Pages.Count[p] == 1 && rig.Pages.Kind[p] == (byte)PageKind.Isolated));
        rig.RunOnCpu0(() => rig.Get<FreeScanner>().ReleaseFreepages(cc.FreePages));
        cc.NrMigratepages = 0;
        rig.Compactor.Release(cc);
        Assert.That(zone.FreePages, Is.EqualTo(520));
    }

    /// <summary>
    /// fast_isolate_freepages (6.1.78): a search at the start of a scan that finds nothing leaves direct compaction at
    /// min_pfn, whose block it isolates around (pageblock_pfn_to_page(min_pfn, min(pageblock_end_pfn(min_pfn),
    /// zone_end_pfn(zone)), zone): the block's end capped at the zone's), also when min_pfn is in a partial last
    /// pageblock: a 33 MiB guest's DMA32 ends half-way through its last block. The free pages there are on an
    /// UNMOVABLE list, which the fast search does not look at, and fast_isolate_around takes them all the same.
    /// </summary>
    [Test]
    public void FastIsolateFreepages_v6_1_DirectCompactionFallsBackToMinPfn_InAPartialLastPageblockToo()
    {
        var rig = RigV6_1.Create(memoryMib: 33);
        var zone = rig.Zone("DMA32");
        const int lastBlock = 32 * 256; // pageblock_start_pfn(zone_end_pfn - 1): where the free scanner starts
        Assert.That(zone.EndPfn, Is.EqualTo(33 * 256), "half a pageblock past the last whole one");
        rig.TakeAll(zone);
        rig.Release(zone.StartPfn, 9); // free pages for the watermark; order 9 is above the fast search's orders
        zone.SetPageblockMigratetype(lastBlock, MigrateType.Unmovable);
        rig.Release(lastBlock + 64, 3);
        var cc = new CompactControl(rig.Lists, zone, 9, Gfp.HighUserMovable, MigrateMode.SyncLight, ignoreSkipHint: false)
        {
            DirectCompaction = true,
        };
        (cc.MigratePfn, cc.FreePfn, cc.NrMigratepages) = (lastBlock, lastBlock, 8);
        rig.RunOnCpu0(() => rig.Get<FreeScanner>().IsolateFreepages(cc));
        Assert.That((cc.NrFreepages, cc.FreePfn), Is.EqualTo((8, lastBlock)), "the 8 free pages of the partial block");
        rig.RunOnCpu0(() => rig.Get<FreeScanner>().ReleaseFreepages(cc.FreePages));
        cc.NrMigratepages = 0;
        rig.Compactor.Release(cc);
    }

    /// <summary>
    /// compact_cached_free_pfn starts unset (a zeroed struct zone: 0, below x86-64's first zone PFN), which compact_zone
    /// reads as the zone's last pageblock. update_pageblock_skip only lowers it, so a whole-zone run (which does not read
    /// it) leaves it unset; once set (reset_cached_positions, or a run that is not whole-zone), a fully scanned block lowers it.
    /// </summary>
    [Test]
    public void UpdatePageblockSkip_v6_1_LowersTheCachedFreePfnOnlyOnceItIsSet()
    {
        var rig = RigV6_1.Create(64);
        var zone = rig.Zone("DMA32");
        var cc = new CompactControl(rig.Lists, zone, -1, Gfp.HighUserMovable, MigrateMode.Sync, ignoreSkipHint: true) { WholeZone = true };
        int block = zone.StartPfn + 4 * Zone.PageblockNrPages;
        Assert.That(zone.CompactCachedFreePfn, Is.LessThan(zone.StartPfn), "unset at boot");

        PageblockSkip.UpdatePageblockSkip(cc, block);
        Assert.That(PageblockSkip.GetSkip(zone, block), Is.True);
        Assert.That(zone.CompactCachedFreePfn, Is.LessThan(zone.StartPfn), "not lowered: no PFN is below it");

        PageblockSkip.ResetCachedPositions(zone);
        Assert.That(zone.CompactCachedFreePfn, Is.EqualTo(zone.EndPfn - Zone.PageblockNrPages));
        PageblockSkip.UpdatePageblockSkip(cc, block);
        Assert.That(zone.CompactCachedFreePfn, Is.EqualTo(block));
    }

    /// <summary>
    /// isolate_migratepages_block (6.1): a balloon page is not on an LRU list; the scanner drops the LRU lock (held for
    /// the anon page before it, when there is one) and isolates it through isolate_movable_page. With or without the
    /// lock before, every balloon page is isolated; putback_movable_pages returns them to the balloon.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void IsolateMigratepagesBlock_v6_1_BalloonPagesThroughIsolateMovablePage_WithAndWithoutLruLockHeldBefore(bool lruPageFirst)
    {
        var rig = RigV6_1.Create(64);
        var kit = rig.Get<ScenarioKit>();
        int anon = lruPageFirst ? kit.AnonPage() : -1;
        var balloon = kit.BalloonPages(8);
        var zone = rig.Node.ZoneOf(balloon[0]);
        var compaction = rig.Get<ICompaction>();
        var cc = compaction.NewControl(zone, Zone.PageblockOrder, zone.Types.Movable, MigrateMode.Sync, ignoreSkipHint: true);
        rig.RunOnCpu0(() => compaction.IsolateMigratepagesRange(cc, lruPageFirst ? anon : balloon[0], balloon[^1] + 1));
        Assert.That(cc.NrMigratepages, Is.EqualTo(balloon.Length + (lruPageFirst ? 1 : 0)));
        Assert.That(zone.LruLock.IsLocked, Is.False);
        Assert.That(rig.Get<IMovablePageIsolation>().PageIsolated(balloon[0]), Is.True);
        Assert.That(rig.Get<Engine.Balloon.BalloonDevInfo>().IsolatedPages, Is.EqualTo(balloon.Length));
        rig.RunOnCpu0(() => rig.Get<IMigration>().PutbackMovablePages(cc.MigratePages));
        compaction.Release(cc);
        Assert.That(rig.Get<Engine.Balloon.BalloonDevInfo>().IsolatedPages, Is.Zero);
        Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedAnon) + rig.VmStat.Global(ZoneStat.NrIsolatedFile), Is.Zero);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// compaction_suitable (6.1): free memory only in order-2 blocks makes order 3 worth compacting (CONTINUE: the
    /// fragmentation index, 500 − 1000/64 ≤ 500, is ignored for non-costly orders); free memory only in order-3 blocks
    /// does not for order 4 (costly: fragindex 469 ≤ extfrag_threshold → SKIPPED).
    /// </summary>
    [TestCase(2, 3, "COMPACT_CONTINUE")]
    [TestCase(3, 4, "COMPACT_SKIPPED")]
    public void CompactionSuitable_v6_1_FragmentationIndexOnlyForCostlyOrders(int freeOrder, int requestOrder, string expected)
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        int blocks = 256 >> freeOrder, stride = 2 << freeOrder;
        for (int i = 0; i < blocks; i++) rig.Release(i * stride, freeOrder);
        Assert.That(zone.FreePages, Is.EqualTo(256));
        Assert.That(rig.Compactor.CompactionSuitable(zone, requestOrder, AllocFlags.WmarkMin, 0).Name(), Is.EqualTo(expected));
        Assert.That(rig.Compactor.CompactionSuitable(zone, -1, AllocFlags.WmarkMin, 0), Is.EqualTo(CompactResultCode.Continue));
        Assert.That(rig.Compactor.CompactionSuitable(zone, freeOrder, AllocFlags.WmarkMin, 0), Is.EqualTo(CompactResultCode.Success),
            "a free block of the order above the min mark: no compaction needed");
    }

    /// <summary>
    /// THP faults in a fragmented 64 MiB guest (half the anon pages freed at random): the slow path's initial async
    /// direct compaction (costly order) stalls, makes (or captures) order-9 blocks, and succeeds; the guest stays consistent.
    /// </summary>
    [Test]
    public void AllocPagesDirectCompact_v6_1_ThpFaultsInAFragmentedGuestCompactAndSucceed()
    {
        var rig = RigV6_1.Create(64).FragmentedAnon("random");
        Assert.That(rig.Sim.FreeBlocks().Skip(Zone.PageblockOrder).Sum(), Is.Zero, "precondition: no free order-9 block");
        long got = rig.Sim.Allocate(9, 4);
        Assert.That(got, Is.EqualTo(4));
        Assert.That(rig.Event(VmEvent.CompactStall), Is.Positive);
        Assert.That(rig.Event(VmEvent.CompactSuccess), Is.Positive);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.Positive);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// A result of the 6.1 model: with exactly every other page free, async direct compaction finds almost no targets.
    /// Its fast free-list search takes one page per call and gives up as freelist_scan_limit shrinks; the linear free
    /// scanner of async compaction steps 32 PFNs from a pageblock's start (isolate_freepages, stride 32), so it only
    /// ever looks at even PFNs, which are all in use; migrate_pages gets -ENOMEM, compaction ends CONTENDED, and the THP
    /// faults (__GFP_NORETRY: async only) fail. The v3.16 free scanner looks at every PFN and succeeds.
    /// </summary>
    [Test]
    public void AllocPagesDirectCompact_v6_1_AsyncFreeScannerStrideMissesAPerfectInterleave()
    {
        var rig = RigV6_1.Create(64).FragmentedAnon("interleave");
        Assert.That(rig.Sim.Allocate(9, 4), Is.Zero);
        Assert.That(rig.Event(VmEvent.CompactFail), Is.EqualTo(8), "two async compactions per fault: initial and retry");
        var legacy = new SimRig(TestOptions.Classic(64, 1, 1, "fixed"));
        legacy.Sim.WorkloadAnon(legacy.Get<Workload.Workload>().AllocatablePages() / 256.0);
        legacy.Sim.WorkloadFree(0.5, "interleave", 0);
        Assert.That(legacy.Sim.Allocate(9, 4), Is.EqualTo(4));
    }

    /// <summary>
    /// A result of the 6.1 model: sync compaction (compact_memory) starts its free scanner with stride 1, but every
    /// pageblock scanned without finding a free page doubles the stride (up to 32) — here the pageblocks at the top of
    /// the zone that are the tails of free order-10 blocks — after which, with every odd page free below, it only looks
    /// at even PFNs and finds nothing: migrate_pages gets -ENOMEM on its first page, which it counts as failed (6.1
    /// migrate_pages: nr_failed_pages += 1 + nr_retry_pages; v3.16 counted none), the scanners are made to meet, and
    /// nothing migrates. The v3.16 free scanner looks at every PFN and migrates the lot. A random half freed compacts in both.
    /// </summary>
    [Test]
    public void CompactNode_v6_1_StrideGrownOverEmptyBlocksMissesAnOddInterleave()
    {
        static Simulation Populated(string design, string pattern)
        {
            var sim = new SimRig(TestOptions.Classic(64, 1, 1, design)).Sim;
            sim.WorkloadAnon(40);
            sim.WorkloadFree(0.5, pattern, 0);
            return sim;
        }

        var stuck = Populated("v6.1", "interleave").Compact();

        Assert.That((stuck.Migrated, stuck.Failed), Is.EqualTo((0L, 1L)));
        Assert.That(stuck.ZoneOutcomes, Is.All.EqualTo("COMPACT_COMPLETE"));
        Assert.That(Populated("fixed", "interleave").Compact().Migrated, Is.Positive);
        Assert.That(Populated("v6.1", "random").Compact().Migrated, Is.Positive);
    }

    /// <summary>compact_memory in v6.1 compacts every zone whole (order -1, MIGRATE_SYNC, skip hints ignored).</summary>
    [Test]
    public void CompactNode_v6_1_TurnsAFragmentedMovableZoneIntoOrder9Blocks()
    {
        var rig = RigV6_1.Create(64).FragmentedAnon();
        var r = rig.Sim.Compact();
        Assert.That(r.Migrated, Is.Positive);
        Assert.That(r.ZoneOutcomes, Is.All.EqualTo("COMPACT_COMPLETE"));
        Assert.That(rig.Sim.FreeBlocks().Skip(Zone.PageblockOrder).Sum(), Is.Positive);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
