using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The 6.1 page allocator (docs/kernel/v6.1.md §2; mm/page_alloc.c of 6.1.78, Natsume324/MagicPad2_OS9.0_Kernel):
/// watermarks with watermark_scale_factor, the high-order watermark test, fallbacks and pageblock stealing, watermark
/// boosting, MIGRATE_HIGHATOMIC, __isolate_free_page.
/// </summary>
public class PageAllocV6_1Tests
{
    /// <summary>
    /// __setup_per_zone_wmarks: 1 GiB = DMA 4096 + DMA32 258048 managed pages. init_per_zone_wmark_min's min_free_kbytes,
    /// int_sqrt(16 × 1048576) = 4096, is raised by khugepaged (hugepage_init → start_stop_khugepaged →
    /// set_recommended_min_free_kbytes, 6.1.78 khugepaged.c: THP stays on from 512 MiB) to 512 × 2 zones × (2 + 3²) =
    /// 11264 pages; DMA32 min = 11264 × 258048 / 262144 = 11088, DMA 176; the distance is max(min / 4, managed × factor / 10000).
    /// </summary>
    [TestCase(null, 11088, 13860, 16632)]  // factor 10: max(2772, 258) = 2772
    [TestCase(200, 11088, 16248, 21408)]   // factor 200: 5160
    [TestCase(1, 11088, 13860, 16632)]     // factor 1: max(2772, 25) = 2772
    public void SetupPerZoneWmarks_v6_1_DistanceIsMaxOfAQuarterOfMinAndTheScaleFactor(int? factor, long min, long low, long high)
    {
        var rig = new RigV6_1(TestOptions.Classic(1024, 1, 1, "v6.1") with { WatermarkScaleFactor = factor });
        var dma32 = rig.Zone("DMA32");
        Assert.That(dma32.Watermark, Is.EqualTo(new[] { min, low, high }));
        Assert.That(rig.Zone("DMA").Watermark, Is.EqualTo(factor == 200 ? new long[] { 176, 257, 338 } : new long[] { 176, 220, 264 }));
        Assert.That(dma32.WatermarkBoost, Is.Zero);
    }

    /// <summary>
    /// Below 512 MiB hugepage_init turns THP off and returns before start_stop_khugepaged: min_free_kbytes stays
    /// int_sqrt's. 384 MiB = DMA 4096 + DMA32 94208: int_sqrt(16 × 393216) = 2508 kB → pages_min 627; DMA32 min
    /// 627 × 94208 / 98304 = 600, distance max(150, 94) = 150.
    /// </summary>
    [Test]
    public void SetupPerZoneWmarks_v6_1_BelowHalfAGibibyteMinFreeKbytesIsIntSqrts()
    {
        var rig = new RigV6_1(TestOptions.Classic(384, 1, 1, "v6.1"));
        Assert.That(rig.Zone("DMA32").Watermark, Is.EqualTo(new long[] { 600, 750, 900 }));
    }

    /// <summary>
    /// __zone_watermark_ok (6.1): a high order needs the order-0 test and one free block of that order or above on an
    /// UNMOVABLE/MOVABLE/RECLAIMABLE list; there is no per-order halving as in v3.16.
    /// </summary>
    [Test]
    public void ZoneWatermarkOk_v6_1_HighOrderNeedsOneFreeBlockOfThatOrder()
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        for (int i = 0; i < 64; i++) rig.Release(2048 + 2 * i, 0); // 64 free pages, no two buddies
        var buddy = rig.Buddy;
        Assert.That(buddy.ZoneWatermarkOk(zone, 0, 10, 0, 0, zone.FreePages), Is.True);
        Assert.That(buddy.ZoneWatermarkOk(zone, 3, 10, 0, 0, zone.FreePages), Is.False, "64 free pages, none in an order-3 block");

        rig.Release(1024, 3);
        Assert.That(zone.FreePages, Is.EqualTo(72));
        Assert.That(buddy.ZoneWatermarkOk(zone, 3, 10, 0, 0, zone.FreePages), Is.True);
        // 72 − 7 = 65 > 60 and one order-3 block: 6.1 says yes where v3.16's halving (65 − 64 order-0 pages = 1 ≤ 30) said no.
        Assert.That(buddy.ZoneWatermarkOk(zone, 3, 60, 0, 0, zone.FreePages), Is.True);
        Assert.That(Engine.PageAlloc.V3_16.BuddyAllocator.ZoneWatermarkOk(zone, 3, 60, 0, 0), Is.False);
        Assert.That(buddy.ZoneWatermarkOk(zone, 4, 10, 0, 0, zone.FreePages), Is.False);
    }

    /// <summary>
    /// __zone_watermark_unusable_free: the highatomic reserve is not free memory for an ordinary request, and a free
    /// block on the HIGHATOMIC list counts for a high order only with ALLOC_HARDER (or ALLOC_OOM).
    /// </summary>
    [Test]
    public void ZoneWatermarkOk_v6_1_HighatomicReserveServesOnlyAllocHarder()
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        zone.SetPageblockMigratetype(1024, MigrateType.HighAtomic);
        zone.NrReservedHighatomic = Zone.PageblockNrPages;
        rig.Release(1024, 4);
        Assert.That(rig.FreeList(zone, 4, MigrateType.HighAtomic), Is.EqualTo(new[] { 1024 }));
        var buddy = rig.Buddy;
        // 16 free, 512 reserved: no order-0 allocation passes even a mark of 0 without ALLOC_HARDER.
        Assert.That(buddy.ZoneWatermarkOk(zone, 0, 0, 0, 0, zone.FreePages), Is.False);
        Assert.That(buddy.ZoneWatermarkOk(zone, 2, 4, 0, AllocFlags.Harder, zone.FreePages), Is.True);
        zone.NrReservedHighatomic = 0;
        Assert.That(buddy.ZoneWatermarkOk(zone, 2, 4, 0, 0, zone.FreePages), Is.False, "the only order-2+ block is HIGHATOMIC");
    }

    /// <summary>
    /// __rmqueue_fallback (6.1): the largest foreign block is order 3, which a movable request may not steal whole
    /// (can_steal_fallback: below pageblock_order / 2), so it splits the smallest foreign block instead (order 1); the
    /// UNMOVABLE pageblock keeps its type, and the fragmenting fallback boosts the watermark (no ALLOC_KSWAPD: no flag).
    /// </summary>
    [Test]
    public void RmqueueFallback_v6_1_MovableRequestThatCannotStealSplitsTheSmallestForeignBlock()
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        zone.SetPageblockMigratetype(0, MigrateType.Unmovable);
        rig.Release(64, 3);
        rig.Release(130, 1);
        int page = -1;
        rig.RunOnCpu0(() =>
        {
            zone.Lock.Lock();
            page = rig.Buddy.RmqueueLocked(zone, 0, MigrateType.Movable, 0);
            zone.Lock.Unlock();
        });
        Assert.That(page, Is.EqualTo(130));
        Assert.That(rig.FreeList(zone, 3, MigrateType.Unmovable), Is.EqualTo(new[] { 64 }), "the larger block is left alone");
        Assert.That(rig.FreeList(zone, 0, MigrateType.Movable), Is.EqualTo(new[] { 131 }), "the other half, on the movable list");
        Assert.That(zone.GetPageblockMigratetype(0), Is.EqualTo(MigrateType.Unmovable));
        Assert.That(zone.WatermarkBoost, Is.EqualTo(Zone.PageblockNrPages));
        Assert.That(zone.Flags & ZoneFlags.BoostedWatermark, Is.EqualTo(ZoneFlags.None));
    }

    /// <summary>
    /// steal_suitable_fallback (6.1): an unmovable request out of a MOVABLE pageblock claims it when free pages and
    /// pages that are neither on an LRU list nor movable make half of it — here 16 free and 496 kernel pages — but not when
    /// those 496 pages are LRU pages (alike = 512 − free − movable = 0). The free pages move to the new type's list tail either way.
    /// </summary>
    [TestCase(false, MigrateType.Unmovable)]
    [TestCase(true, MigrateType.Movable)]
    public void StealSuitableFallback_v6_1_UnmovableRequestClaimsAMovableBlockUnlessItsPagesAreMovable(bool lru, int blockType)
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        rig.Release(512 + 64, 4);
        var inUse = Enumerable.Range(512, Zone.PageblockNrPages).Where(p => p < 576 || p >= 592).ToArray();
        if (lru) foreach (int p in inUse) rig.Pages.Set(p, PG.Lru);
        zone.Lock.Lock();
        int page = rig.Buddy.RmqueueLocked(zone, 0, MigrateType.Unmovable, 0);
        zone.Lock.Unlock();
        if (lru) foreach (int p in inUse) rig.Pages.Clear(p, PG.Lru);
        Assert.That(page, Is.EqualTo(512 + 64));
        Assert.That(zone.GetPageblockMigratetype(512), Is.EqualTo(blockType));
        Assert.That(rig.FreeList(zone, 3, MigrateType.Unmovable), Is.EqualTo(new[] { 512 + 72 }), "the rest of the stolen block");
    }

    /// <summary>
    /// boost_watermark: +pageblock_nr_pages per fallback, up to max(pageblock, high × 15000 / 10000); 384 MiB (THP off,
    /// the watermarks of the test above): 900 × 1.5 = 1350.
    /// </summary>
    [Test]
    public void BoostWatermark_v6_1_GrowsByAPageblockUpToTheFactorTimesTheHighMark()
    {
        var rig = new RigV6_1(TestOptions.Classic(384, 1, 1, "v6.1"));
        var zone = rig.Zone("DMA32");
        var boost = rig.Get<WatermarkBoost>();
        var seen = Enumerable.Range(0, 4).Select(_ => boost.BoostWatermark(zone) ? zone.WatermarkBoost : -1).ToArray();
        Assert.That(seen, Is.EqualTo(new long[] { 512, 1024, 1350, 1350 }));
        Assert.That(zone.WmarkPages(Zone.WmarkLow), Is.EqualTo(750 + 1350));
    }

    /// <summary>boost_watermark: nothing in a zone with fewer than four pageblocks managed (DMA32 of a 20 MiB guest: 1024 pages).</summary>
    [Test]
    public void BoostWatermark_v6_1_SmallZoneNeverBoosts()
    {
        var rig = new RigV6_1(TestOptions.Classic(20, 1, 1, "v6.1"));
        Assert.That(rig.Get<WatermarkBoost>().BoostWatermark(rig.Zone("DMA32")), Is.False);
    }

    [Test]
    public void BoostWatermark_v6_1_FactorZeroNeverBoosts()
    {
        var rig = new RigV6_1(TestOptions.Classic(1024, 1, 1, "v6.1") with { WatermarkBoostFactor = 0 });
        Assert.That(rig.Get<WatermarkBoost>().BoostWatermark(rig.Zone("DMA32")), Is.False);
        Assert.That(rig.Zone("DMA32").WatermarkBoost, Is.Zero);
    }

    /// <summary>
    /// A fragmenting fallback of an allocation that may wake kswapd flags ZONE_BOOSTED_WATERMARK; rmqueue then wakes
    /// kswapd, whose pass ends the boost and wakes kcompactd at pageblock order (compact_daemon_wake), which compacts.
    /// Without __GFP_KSWAPD_RECLAIM the boost stays.
    /// </summary>
    [TestCase(true, 0, 1)]
    [TestCase(false, 512, 0)]
    public void WatermarkBoost_v6_1_EndsWithTheKswapdWakeThatWakesKcompactd(bool kswapdReclaim, long boostAfter, long kcompactdWakes)
    {
        var gfp = kswapdReclaim ? Gfp.Kernel : Gfp.Kernel | Gfp.NoKswapd;
        var rig = RigV6_1.Create(64).FragmentedAnon();
        var zone = rig.Zone("DMA32");
        Assert.That(rig.FreeList(zone, 0, MigrateType.Unmovable), Is.Empty, "precondition: no unmovable free page");
        rig.RunOnCpu0(() => rig.Allocator.AllocPages(0, gfp));
        Assert.That(zone.WatermarkBoost, Is.EqualTo(boostAfter));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(kcompactdWakes));
        Assert.That(rig.Event(VmEvent.CompactDaemonMigrateScanned) > 0, Is.EqualTo(kcompactdWakes > 0));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>memblock_free_all → __free_pages_core → __free_pages_ok counts PGFREE: pgfree starts at the pages boot freed.</summary>
    [Test]
    public void Pgfree_v6_1_StartsAtThePagesBootFreed()
    {
        var rig = RigV6_1.Create(64);
        Assert.That(rig.Event(VmEvent.Pgfree), Is.EqualTo(rig.Node.Zones.Sum(z => z.FreePages)).And.EqualTo(64 * 256));
    }

    /// <summary>
    /// rmqueue (6.1) ends a boost with <c>wakeup_kswapd(zone, 0, 0, zone_idx(zone))</c>: kswapd balances the zones up to
    /// the boosted one (here DMA32, index 1), not up to the zone a gfp of 0 would name (Normal).
    /// </summary>
    [Test]
    public void WatermarkBoost_v6_1_WakesKswapdForTheBoostedZonesIndex()
    {
        var rig = RigV6_1.Create(64);
        var woken = new List<(string Zone, int Order, Gfp Gfp)>();
        var boost = new WatermarkBoost(rig.Node, rig.Get<SimulationOptions>(), new Lazy<Engine.Reclaim.IReclaim>(new RecordingReclaim(woken)),
            new Lazy<Engine.Compaction.V6_1.Kcompactd>(rig.Get<Engine.Compaction.V6_1.Kcompactd>));

        boost.WakeupKswapd(rig.Zone("DMA32"));

        Assert.That(woken, Is.EqualTo(new[] { ("DMA32", 0, (Gfp)0) }));
    }

    /// <summary>A modelled reclaim that records the kswapd wake-ups asked of it.</summary>
    private sealed class RecordingReclaim(List<(string, int, Gfp)> woken) : Engine.Reclaim.IReclaim
    {
        public bool Modelled => true;
        public bool KswapdRunning => false;
        public bool NodeUnreclaimable => false;
        public void WakeAllKswapds(int order, Gfp gfp) => woken.Add(("all", order, gfp));
        public void WakeupKswapd(Zone zone, int order, Gfp gfp) => woken.Add((zone.Name, order, gfp));
        public long TryToFreePages(int order, Gfp gfp) => 0;
        public bool OutOfMemory(Gfp gfp, int order) => false;
    }

    /// <summary>
    /// reserve_highatomic_pageblock: a zone of 1% ≥ a pageblock (DMA32 of 256 MiB: 61440 pages) makes the pageblock of a
    /// high-order ALLOC_HARDER allocation MIGRATE_HIGHATOMIC (the limit is ALIGN(614, 512) = 1024 pages); the next
    /// such allocation is served from it first. unreserve_highatomic_pageblock keeps a zone's last reserved block unless
    /// forced, and gives it back to the requested type.
    /// </summary>
    [Test]
    public void HighatomicReserve_v6_1_AtomicHighOrderAllocationReservesItsBlock_ForcedUnreserveGivesItBack()
    {
        var rig = RigV6_1.Create(256);
        var zone = rig.Zone("DMA32");
        var buddy = rig.Buddy;
        const Gfp atomic = Gfp.High | Gfp.Atomic | Gfp.Comp;
        int first = -1, second = -1;
        rig.RunOnCpu0(() => first = buddy.GetPageFromFreelist(2, atomic, AllocFlags.WmarkMin | AllocFlags.Harder));
        Assert.That(zone.GetPageblockMigratetype(first), Is.EqualTo(MigrateType.HighAtomic));
        Assert.That(zone.NrReservedHighatomic, Is.EqualTo(Zone.PageblockNrPages));
        Assert.That(rig.Sim.Pagetypeinfo(), Does.Match(@"zone\s+DMA32,\s+type\s+HighAtomic(\s+\d+){11}"));
        rig.RunOnCpu0(() => second = buddy.GetPageFromFreelist(2, atomic, AllocFlags.WmarkMin | AllocFlags.Harder));
        Assert.That(second >> Zone.PageblockOrder, Is.EqualTo(first >> Zone.PageblockOrder), "served from the reserve");
        Assert.That(zone.NrReservedHighatomic, Is.EqualTo(Zone.PageblockNrPages), "one block is enough for both");

        bool released = false;
        rig.RunOnCpu0(() => released = buddy.UnreserveHighatomicPageblock(MigrateType.Movable, force: false));
        Assert.That(released, Is.False, "the zone's last reserved pageblock stays unless forced");
        rig.RunOnCpu0(() => released = buddy.UnreserveHighatomicPageblock(MigrateType.Movable, force: true));
        Assert.That(released, Is.True);
        Assert.That(zone.GetPageblockMigratetype(first), Is.EqualTo(MigrateType.Movable));
        Assert.That(zone.NrReservedHighatomic, Is.Zero);
        Assert.That(Enumerable.Range(0, Zone.MaxOrder).Sum(o => rig.FreeList(zone, o, MigrateType.HighAtomic).Count), Is.Zero);
    }

    /// <summary>__isolate_free_page (6.1): the order-0 test against the unboosted min mark + 2^order, not low as in 3.16/4.8.</summary>
    [Test]
    public void IsolateFreePage_v6_1_TestsTheUnboostedMinWatermark()
    {
        var rig = RigV6_1.Create();
        var zone = rig.Zone("DMA");
        rig.TakeAll(zone);
        rig.Release(0, 8);     // 256 free; min 128
        rig.Release(1024, 3);  // 264 free
        zone.WatermarkBoost = 1000;
        int isolated = 0;
        zone.Lock.Lock();
        isolated = rig.Buddy.IsolateFreePage(zone, 1024, 3); // 264 > 128 + 8
        zone.Lock.Unlock();
        Assert.That(isolated, Is.EqualTo(8));
        Assert.That(zone.FreePages, Is.EqualTo(256));
        zone.Lock.Lock();
        isolated = rig.Buddy.IsolateFreePage(zone, 0, 8); // 256 ≤ 128 + 256
        zone.Lock.Unlock();
        Assert.That(isolated, Is.Zero);
        zone.WatermarkBoost = 0;
        rig.Release(1024, 3);
    }

    /// <summary>
    /// __drain_all_pages (6.1): under pcpu_drain_mutex. While CPU 0 drains every CPU's lists (it holds the mutex, at
    /// cpu1's zone lock), CPU 1's drain of every zone returns at once, draining nothing ("Do not drain if one is already in
    /// progress unless it's specific to a zone"); CPU 1's drain of one zone waits for the mutex, then drains (nothing is
    /// left by then). Without the mutex CPU 1 would drain its own lists at once.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void DrainAllPages_v6_1_ASecondDrainOfEveryZoneSkipsWhileOneRuns_ADrainOfAZoneWaits(bool oneZone)
    {
        var rig = RigV6_1.Create(memoryMib: 64, cpus: 2, perCpuLists: true);
        int Cpu1Pages() => rig.Node.Zones.Sum(z => rig.Pcp.Pcp(z, 1).Count);
        rig.Sim.RunKernelPaths("fill", [new SimTask(0, 1, "fill", () =>
        {
            var pfns = Enumerable.Range(0, 40).Select(_ => rig.Allocator.AllocPages(0, Gfp.HighUserMovable)).ToList();
            foreach (int pfn in pfns) rig.Buddy.FreePages(pfn, 0);
        })], null);
        int before = Cpu1Pages();
        Assume.That(before, Is.Positive, "precondition: cpu1's lists hold pages");
        var mutex = rig.Get<Scheduler>().Locks.Single(l => l.Name == "pcpu_drain_mutex");
        var zone = rig.Node.Zones.Single(z => rig.Pcp.Pcp(z, 1).Count > 0);
        int atItsEnd = -1;
        var tasks = new[]
        {
            new SimTask(0, 0, "drain all", () => rig.Pcp.DrainAllPages(rig.Buddy, null)),
            new SimTask(1, 1, "drain again", () =>
            {
                rig.Pcp.DrainAllPages(rig.Buddy, oneZone ? zone : null);
                atItsEnd = Cpu1Pages();
            }),
        };
        rig.Sim.RunKernelPaths("race", tasks, new SecondWhileTheFirstHolds(mutex));
        bool waited = rig.Get<Scheduler>().Trace.Any(t => t.Task == "drain again" && t.Point == "blocked: pcpu_drain_mutex");

        Assert.That(atItsEnd, Is.EqualTo(oneZone ? 0 : before), oneZone ? "drained once the first was done" : "returned, draining nothing");
        Assert.That(waited, Is.EqualTo(oneZone));
        Assert.That(Cpu1Pages(), Is.Zero, "the first drain emptied cpu1's lists");
        Assert.That(mutex.IsLocked, Is.False);
    }

    /// <summary>The first task, except while it holds <paramref name="mutex"/>: then the second.</summary>
    private sealed class SecondWhileTheFirstHolds(SimLock mutex) : IScheduleStrategy
    {
        public void Start(IReadOnlyList<SimTask> tasks) { }

        public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step) =>
            runnable.FirstOrDefault(t => t.Id == (mutex.HeldBy(0) ? 1 : 0)) ?? runnable[0];
    }
}
