using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Reclaim.V6_1;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// 6.1 node reclaim (mm/vmscan.c of 6.1.78, Natsume324/MagicPad2_OS9.0_Kernel; mm/swap.c lru_note_cost): the node lruvec,
/// kswapd's balance_pgdat with kswapd_failures and boost reclaim, isolate_lru_folios' zone skipping, get_scan_count's
/// cache-trim mode, lru_note_cost, reclaim_throttle, and the per-reclaimer counters.
/// </summary>
public class ReclaimV6_1Tests
{
    private static PressureRig Rig(long swapMib = 0) => new(design: "v6.1", swapMib: swapMib);

    /// <summary>A v6.1 guest with 8 MiB of swap and 1 MiB of process memory, and the first page of its inactive anon list.</summary>
    private static (PressureRig Rig, Rmap Rmap, int Page) InactiveAnonPage()
    {
        var rig = Rig(swapMib: 8);
        rig.Sim.WorkloadAnon(1);
        return (rig, rig.Get<Rmap>(), rig.LruList(Zone.LruInactiveAnon)[0]);
    }

    /// <summary>Run <paramref name="body"/> as a user task's kernel path on CPU 0, to completion.</summary>
    private static void RunOnCpu0(PressureRig rig, Action body) =>
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", body)], null);

    /// <summary>
    /// The LRU lists part: 6.1 has one lruvec per node (v4.8; every zone uses the same lists and lru_lock) and puts a new
    /// anonymous page on the inactive list (5.9, lru_cache_add_inactive_or_unevictable); v3.16 has per-zone lists and
    /// starts anonymous pages active (lru_cache_add_active_or_unevictable).
    /// </summary>
    [Test]
    public void LruLists_v6_1_NodeLruvecAndNewAnonPagesInactive_v3_16PerZoneAndActive()
    {
        var rig61 = Rig();
        var node61 = rig61.Node;
        Assert.That(node61.NodeLruvec, Is.True);
        Assert.That(node61.Zones.Select(z => z.LruHead[Zone.LruInactiveFile]).Distinct().Count(), Is.EqualTo(1));
        Assert.That(node61.Zones.Select(z => z.LruLock).Distinct().Count(), Is.EqualTo(1));
        rig61.Sim.WorkloadAnon(1);
        Assert.That((rig61.Stat(ZoneStat.NrInactiveAnon), rig61.Stat(ZoneStat.NrActiveAnon)), Is.EqualTo((256L, 0L)));

        var rig316 = new PressureRig();
        var node316 = rig316.Node;
        Assert.That(node316.NodeLruvec, Is.False);
        Assert.That(node316.Zones.Select(z => z.LruHead[Zone.LruInactiveFile]).Distinct().Count(), Is.EqualTo(node316.Zones.Count));
        rig316.Sim.WorkloadAnon(1);
        Assert.That((rig316.Stat(ZoneStat.NrInactiveAnon), rig316.Stat(ZoneStat.NrActiveAnon)), Is.EqualTo((0L, 256L)));
    }

    /// <summary>
    /// kswapd (6.1) reclaims page cache when allocations fall below the low watermark; shrink_inactive_list counts
    /// pgscan/pgsteal per reclaimer (kswapd, direct) and per type (anon, file) — the same pages both ways — and none of
    /// v3.16's per-zone items; balanced, kswapd naps HZ/10 and then sleeps.
    /// </summary>
    [Test]
    public void Kswapd_v6_1_ReclaimsPageCache_CountsPerReclaimerAndType_NapsThenSleeps()
    {
        var rig = Rig();
        var kswapd = rig.Get<Kswapd>();
        rig.Sim.WorkloadFile(40);
        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.Zero);
        rig.Sim.WorkloadAnon(30);

        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.Positive);
        Assert.That(rig.Event(VmEvent.PgstealKswapd), Is.Positive);
        Assert.That(rig.Event(VmEvent.PgscanKswapd) + rig.Event(VmEvent.PgscanDirect),
            Is.EqualTo(rig.Event(VmEvent.PgscanAnon) + rig.Event(VmEvent.PgscanFile)));
        Assert.That(rig.Event(VmEvent.PgstealKswapd) + rig.Event(VmEvent.PgstealDirect),
            Is.EqualTo(rig.Event(VmEvent.PgstealAnon) + rig.Event(VmEvent.PgstealFile)));
        Assert.That(rig.Event(VmEvent.PgscanAnon), Is.Zero, "no swap: get_scan_count scans file only");
        Assert.That(rig.EventAllZones(VmEvent.PgscanKswapdDma) + rig.EventAllZones(VmEvent.PgstealKswapdDma) + rig.Event(VmEvent.Allocstall),
            Is.Zero, "v3.16's counters stay untouched");
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain($"\npgsteal_kswapd {rig.Event(VmEvent.PgstealKswapd)}\n"));
        Assert.That(kswapd.Running, Is.False);

        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        rig.Sim.Run(110);
        Assert.That(rig.Get<IReclaim>().KswapdRunning, Is.False);
        long runs = rig.Event(VmEvent.Pageoutrun);
        rig.Sim.Run(1000);
        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.EqualTo(runs), "asleep until woken");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// balance_pgdat (6.1) counts a failure for every run that reclaimed nothing; at MAX_RECLAIM_RETRIES (16) the node is
    /// hopeless: prepare_kswapd_sleep lets kswapd sleep, wakeup_kswapd leaves it asleep, /proc/zoneinfo prints
    /// node_unreclaimable 1. Reclaim that makes progress again (shrink_node) resets the count.
    /// </summary>
    [Test]
    public void KswapdFailures_v6_1_SixteenRunsWithoutProgressMakeTheNodeHopeless_ProgressRevivesIt()
    {
        var rig = Rig();
        var state = rig.Get<NodeReclaimState>();
        for (int i = 0; i < 9; i++) rig.Sim.WorkloadAnon(8); // nothing reclaimable without swap: kswapd fails, OOM kills follow

        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.EqualTo(NodeReclaimState.MaxReclaimRetries));
        Assert.That(state.KswapdFailures, Is.EqualTo(NodeReclaimState.MaxReclaimRetries));
        Assert.That(rig.Get<IReclaim>().NodeUnreclaimable, Is.True);
        Assert.That(rig.Sim.Zoneinfo(), Does.Contain("node_unreclaimable:  1"));
        Assert.That(rig.Event(VmEvent.OomKill), Is.Positive);

        rig.Sim.WorkloadFree(1.0, "interleave", 0);
        rig.Sim.WorkloadFile(50);
        rig.Sim.WorkloadAnon(20); // direct reclaim of page cache makes progress
        Assert.That(state.KswapdFailures, Is.LessThan(NodeReclaimState.MaxReclaimRetries));
        Assert.That(rig.Sim.Zoneinfo(), Does.Contain("node_unreclaimable:  0"));
        Assert.That(rig.Event(VmEvent.PgstealKswapd) + rig.Event(VmEvent.PgstealDirect), Is.Positive);
    }

    /// <summary>
    /// A boosted zone (6.1 boost_watermark) wakes kswapd though the node is balanced; balance_pgdat reclaims at least the
    /// boost with writeback and swap off (only page cache goes, although anon pages and swap are there), then takes the
    /// boost back.
    /// </summary>
    [Test]
    public void BalancePgdat_v6_1_BoostReclaimTakesPageCacheOnlyThenEndsTheBoost()
    {
        var rig = new PressureRig(memoryMib: 256, swapMib: 64, design: "v6.1"); // lists long enough to scan at priority 12
        rig.Sim.WorkloadFile(100);
        var file = rig.LruList(Zone.LruInactiveFile);
        rig.Access(file.Take(file.Count * 3 / 5), times: 2); // inactive file low: no cache-trim mode, anon would be scanned
        rig.Sim.WorkloadAnon(60);
        var zone = rig.Zone;
        const long boost = 1024;
        zone.WatermarkBoost = boost;
        Assert.That(zone.FreePages, Is.GreaterThan(zone.WmarkPages(Zone.WmarkHigh) + 1024), "precondition: balanced even with the boost");

        RunOnCpu0(rig, () => rig.Get<IReclaim>().WakeAllKswapds(0, 0));

        Assert.That(zone.WatermarkBoost, Is.Zero);
        Assert.That(rig.Event(VmEvent.PgstealKswapd), Is.GreaterThanOrEqualTo(boost));
        Assert.That(rig.Event(VmEvent.PgscanAnon) + rig.Event(VmEvent.Pswpout), Is.Zero, "may_swap is off while boosting");

        rig.Sim.WorkloadAnon(100); // ordinary pressure on the same guest does scan anon
        Assert.That(rig.Event(VmEvent.PgscanAnon), Is.Positive);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// isolate_lru_folios (6.1): with reclaim_idx below a page's zone the page is set aside, not counted against the
    /// scan, spliced back at the head and counted as pgskip_&lt;zone&gt;; only pages of eligible zones are reclaimed.
    /// </summary>
    [Test]
    public void IsolateLruFolios_v6_1_PagesAboveReclaimIdxAreSkipped_CountedAsPgskipAndLeftAlone()
    {
        var rig = new PressureRig(memoryMib: 4096 + 64, design: "v6.1");
        rig.Sim.WorkloadFile(100); // the Normal zone's 64 MiB first, then DMA32
        var dma32 = rig.Node.Zones[1];
        var normal = rig.Node.Zones[2];
        long normalFile = normal.Stat[(int)ZoneStat.NrInactiveFile];
        long dma32File = dma32.Stat[(int)ZoneStat.NrInactiveFile];
        Assert.That(Math.Min(normalFile, dma32File), Is.Positive, "precondition: page cache in both zones");

        var sc = new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = dma32.Index, Priority = 0, NrToReclaim = 1 << 20 };
        RunOnCpu0(rig, () => rig.Get<LruvecShrinker>().ShrinkNode(sc));

        Assert.That(rig.Event(VmEvent.PgskipNormal), Is.Positive);
        Assert.That(rig.Event(VmEvent.PgskipDma32), Is.Zero);
        Assert.That(normal.Stat[(int)ZoneStat.NrInactiveFile], Is.EqualTo(normalFile), "Normal's page cache untouched");
        Assert.That(dma32.Stat[(int)ZoneStat.NrInactiveFile], Is.LessThan(dma32File));
        Assert.That(rig.Event(VmEvent.PgstealDirect), Is.EqualTo(dma32File - dma32.Stat[(int)ZoneStat.NrInactiveFile]));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// prepare_scan_count / get_scan_count (6.1): with plenty of inactive page cache that is not to be deactivated
    /// (cache_trim_mode) reclaim scans file pages only, though swap and anon pages are there; an anon-only node with
    /// swap swaps, and lru_note_cost charges the pages written out to anon_cost (file_cost stays 0).
    /// </summary>
    [Test]
    public void GetScanCount_v6_1_CacheTrimModeScansFileOnly_SwapOutChargesAnonCost()
    {
        var cache = Rig(swapMib: 32);
        cache.Sim.WorkloadAnon(20);
        cache.Sim.WorkloadFile(25);
        cache.Sim.WorkloadAnon(22);
        Assert.That(cache.Event(VmEvent.PgscanFile), Is.Positive);
        Assert.That(cache.Event(VmEvent.PgscanAnon), Is.Zero, "cache_trim_mode: SCAN_FILE");

        var anon = Rig(swapMib: 32);
        for (int i = 0; i < 9; i++) anon.Sim.WorkloadAnon(8);
        var state = anon.Get<NodeReclaimState>();
        Assert.That(anon.Event(VmEvent.Pswpout), Is.Positive);
        Assert.That(state.AnonCost, Is.Positive);
        Assert.That(state.FileCost, Is.Zero);
        long lru = anon.Node.Zones.Sum(z => Enumerable.Range(0, 4).Sum(l => z.Stat[(int)ZoneStat.NrInactiveAnon + l]));
        Assert.That(state.AnonCost + state.FileCost, Is.LessThanOrEqualTo(Math.Max(lru / 4, state.AnonCost)), "halved past a quarter of the LRU");
    }

    /// <summary>
    /// reclaim_throttle (6.1): a direct reclaimer that finds too many pages isolated sleeps HZ/50 once
    /// (VMSCAN_THROTTLE_ISOLATED) and then gives the list up; a kernel thread other than kswapd only reschedules.
    /// </summary>
    [TestCase(false, 20.0)]
    [TestCase(true, 0.0)]
    public void ReclaimThrottle_v6_1_TooManyIsolated_UserTaskSleepsHz50_KthreadDoesNot(bool kthread, double sleptMs)
    {
        var rig = Rig();
        rig.Sim.WorkloadFile(40);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, 1 << 20); // as if other reclaimers held them
        double before = rig.Sim.ClockMs;
        var sc = new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 };
        var task = new SimTask(0, 0, "test", () => rig.Get<LruvecShrinker>().ShrinkNode(sc)) { Flags = kthread ? PF.Kthread : PF.None };
        rig.Sim.RunKernelPaths("test", [task], null);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, -(1 << 20));

        Assert.That(sc.NrReclaimed, Is.Zero, "the inactive file list was given up");
        Assert.That(rig.Sim.ClockMs - before, Is.EqualTo(sleptMs).Within(4.0), "HZ/50 = 20 ms at HZ 250, once per shrink_inactive_list");
    }

    /// <summary>
    /// shrink_inactive_list (6.1): a reclaimer with a fatal signal pending after its VMSCAN_THROTTLE_ISOLATED sleep returns
    /// SWAP_CLUSTER_MAX ("We are about to die and free our memory"), scanning nothing: progress, so its reclaim ends.
    /// </summary>
    [Test]
    public void ShrinkInactiveList_v6_1_FatalSignalAfterTheIsolatedThrottle_ReturnsSwapClusterMax()
    {
        var rig = Rig();
        rig.Sim.WorkloadFile(40);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, 1 << 20); // as if other reclaimers held them
        long scannedBefore = rig.Event(VmEvent.PgscanDirect);
        var sc = new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 };
        rig.Get<FatalSignal>().Raised = true;
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rig.Get<LruvecShrinker>().ShrinkNode(sc))], null);
        rig.Get<FatalSignal>().Raised = false;
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedFile, -(1 << 20));

        Assert.That(sc.NrReclaimed, Is.EqualTo(ScanControl.SwapClusterMax), "one SWAP_CLUSTER_MAX of progress, then nr_to_reclaim is met");
        Assert.That(rig.Event(VmEvent.PgscanDirect), Is.EqualTo(scannedBefore), "nothing isolated or scanned");
    }

    /// <summary>
    /// reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK) (6.1): the sleeper is woken once more than SWAP_CLUSTER_MAX pages
    /// finished writeback since it slept (__acct_reclaim_writeback, from folio_end_writeback), here when 40 writes of 5 ms
    /// complete; with 20 in flight it sleeps the whole HZ/10. NR_THROTTLED_WRITTEN counts the pages written meanwhile.
    /// </summary>
    [TestCase(40, 33, 5.0)]
    [TestCase(20, 20, 100.0)]
    public void ReclaimThrottle_v6_1_Writeback_WokenOnceMoreThan32PagesAreWritten(int inFlight, int counted, double sleptMs)
    {
        var rig = new PressureRig(design: "v6.1", ioLatencyMs: 5);
        rig.Sim.WorkloadFile(1, dirty: 1);
        rig.Get<Writeback>().WakeupFlusherThreads(inFlight);
        Assume.That(rig.Stat(ZoneStat.NrWriteback), Is.EqualTo(inFlight), "precondition: the writes are in flight");
        double before = rig.Sim.ClockMs;
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rig.Get<LruvecShrinker>().ReclaimThrottle(LruvecShrinker.Throttle.Writeback))], null);

        Assert.That(rig.Sim.ClockMs - before, Is.EqualTo(sleptMs).Within(0.5));
        var state = rig.Get<NodeReclaimState>();
        Assert.That(state.ThrottledWritten, Is.EqualTo(counted), "nr_throttled_written: the pages written while it slept");
        Assert.That(state.NrWritebackThrottled, Is.Zero);
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain($"nr_throttled_written {counted}\n"));
    }

    /// <summary>
    /// reclaim_throttle(VMSCAN_THROTTLE_ISOLATED) (6.1): the sleeper is woken once a too_many_isolated finds the node's
    /// isolated pages no longer too many (wake_throttle_isolated) — here compaction's, in kcompactd's proactive compaction
    /// of a fragmented node (proactiveness 80: a score above 30 calls for it), whose 500 ms timeout comes 4 ms into the
    /// HZ/50 sleep. With the isolated pages still too many for compaction as well, nothing wakes it before its 20 ms are over.
    /// </summary>
    [TestCase(0L, 4.0)]
    [TestCase(1L << 20, 20.0)]
    public void ReclaimThrottle_v6_1_Isolated_WokenByATooManyIsolatedThatFindsThemNoLongerTooMany(long isolated, double sleptMs)
    {
        var rig = new PressureRig(design: "v6.1", compactionProactiveness: 80);
        rig.Sim.WorkloadAnon(40);
        rig.Sim.WorkloadFree(0.5, "interleave", 1);
        var kcompactd = rig.Get<Engine.Compaction.V6_1.Kcompactd>();
        var clock = rig.Get<Engine.Time.SimClock>();
        long due = kcompactd.DefaultTimeoutNs; // its first wait, from boot
        Assume.That(clock.NowNs, Is.LessThan(due - 4_000_000), "precondition: kcompactd's first timeout is still ahead");
        clock.RunUntil(due - 4_000_000);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedAnon, isolated); // as if other reclaimers held them
        long scanned = rig.Event(VmEvent.CompactMigrateScanned);
        double before = rig.Sim.ClockMs;
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rig.Get<LruvecShrinker>().ReclaimThrottle(LruvecShrinker.Throttle.Isolated))], null);
        foreach (var z in rig.Node.Zones) z.Stat.Add((int)ZoneStat.NrIsolatedAnon, -isolated);

        Assert.That(rig.Sim.ClockMs - before, Is.EqualTo(sleptMs).Within(0.5));
        if (isolated == 0) Assert.That(rig.Event(VmEvent.CompactMigrateScanned), Is.GreaterThan(scanned), "kcompactd compacted meanwhile");
    }

    /// <summary>Isolate <paramref name="pfns"/> (inactive) onto a private list, as shrink_inactive_list hands them to shrink_folio_list.</summary>
    private static int Isolated(PressureRig rig, params int[] pfns)
    {
        int list = rig.Lists.NewHead();
        foreach (int p in pfns)
        {
            Assert.That(rig.Get<Lru>().IsolateLruPage(p), Is.Zero);
            rig.Pages.Clear(p, PG.Active);
            rig.Lists.Add(p, list);
        }
        return list;
    }

    /// <summary>
    /// try_to_unmap_one and a young PTE (the page touched again after the references check): v3.16 fails the unmap
    /// (SWAP_FAIL, the page is activated), clearing the bit; with TTU_IGNORE_ACCESS, which 6.1 reclaim always passes
    /// (013339df116c, "mm/rmap: always do TTU_IGNORE_ACCESS", 5.11), the page is unmapped anyway and its PTE becomes the swap entry.
    /// </summary>
    [Test]
    public void TryToUnmapSwapCache_YoungPte_FailsWithoutIgnoreAccess_UnmapsWithIt()
    {
        var (rig, rmap, page) = InactiveAnonPage();
        Assert.That(rig.Get<Engine.Swap.SwapCache>().AddToSwap(page), Is.True, "precondition: in the swap cache");
        var owner = rig.Processes.All.Single();
        int index = rig.Pages.Index[page];

        rmap.MarkYoung(page);
        Assert.That(rmap.TryToUnmapSwapCache(page, ignoreAccess: false), Is.False, "v3.16: SWAP_FAIL");
        Assert.That((rig.Pages.PageMapped(page), owner.Pte(index)), Is.EqualTo((true, page)));

        rmap.MarkYoung(page);
        Assert.That(rmap.TryToUnmapSwapCache(page, ignoreAccess: true), Is.True, "TTU_IGNORE_ACCESS");
        Assert.That(rig.Pages.PageMapped(page), Is.False);
        Assert.That(Workload.Process.IsSwapEntry(owner.Pte(index)), Is.True);
    }

    /// <summary>
    /// folio_check_references (6.1): an anonymous page referenced once through its PTE is kept for another trip with
    /// PG_referenced (v3.16 activated it at once); referenced again on that trip, it is activated.
    /// </summary>
    [Test]
    public void ShrinkFolioList_v6_1_AnonPageReferencedOnceGetsAnotherTrip_ActivatedTheSecondTime()
    {
        var (rig, rmap, page) = InactiveAnonPage();
        rmap.PageReferenced(page); // age the pte the fault left young
        rmap.MarkYoung(page);      // the process touches it again
        var reclaim = rig.Get<FolioReclaim>();
        var sc = new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 };

        int list = Isolated(rig, page);
        Assert.That(reclaim.ShrinkPageList(list, zone: null, sc, new PageListReclaim.BatchStats()), Is.Zero);
        Assert.That(rig.Pages.Test(page, PG.Active), Is.False, "FOLIOREF_KEEP");
        Assert.That(rig.Pages.Test(page, PG.Referenced), Is.True);
        Assert.That(rig.Event(VmEvent.Pswpout), Is.Zero);
        rig.Lists.Del(page);
        rig.Get<Lru>().PutbackLruPage(page);

        rmap.MarkYoung(page);
        list = Isolated(rig, page);
        reclaim.ShrinkPageList(list, zone: null, sc, new PageListReclaim.BatchStats());
        Assert.That(rig.Pages.Test(page, PG.Active), Is.True, "FOLIOREF_ACTIVATE: referenced again");
        Assert.That(rig.Event(VmEvent.Pgactivate), Is.EqualTo(1));
        rig.Lists.Del(page);
        rig.Get<Lru>().PutbackLruPage(page);
        rig.Lists.FreeHead(list);
    }

    /// <summary>
    /// move_folios_to_lru (6.1): each page shrink_inactive_list puts back active ages the lruvec's nonresident_age
    /// (workingset_age_nonresident), as an activation does, so refault distances count it. Here 256 inactive anon pages
    /// referenced on two trips: the first keeps them inactive (FOLIOREF_KEEP, no ageing), the second activates them all.
    /// </summary>
    [Test]
    public void ShrinkInactiveList_v6_1_PagesPutBackActive_AgeTheWorkingset()
    {
        var (rig, rmap, _) = InactiveAnonPage();
        var anon = rig.LruList(Zone.LruInactiveAnon);
        Assert.That(anon, Has.Count.EqualTo(256), "precondition: 1 MiB of inactive anonymous pages, their ptes young from the fault");
        var shrinker = rig.Get<LruvecShrinker>();
        var ws = rig.Get<Workingset>();
        var sc = new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3, NrToReclaim = 1 << 20 };
        long age = ws.NonresidentAge;
        RunOnCpu0(rig, () => shrinker.ShrinkInactiveList(256, sc, Zone.LruInactiveAnon));
        Assert.That((ws.NonresidentAge, rig.Event(VmEvent.Pgactivate)), Is.EqualTo((age, 0L)), "kept inactive: no ageing");
        foreach (int page in anon) rmap.MarkYoung(page);
        RunOnCpu0(rig, () => shrinker.ShrinkInactiveList(256, sc, Zone.LruInactiveAnon));
        Assert.That(rig.Event(VmEvent.Pgactivate), Is.EqualTo(256));
        Assert.That(ws.NonresidentAge, Is.EqualTo(age + 256), "one a page put back active");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// shrink_folio_list (6.1), case 2 of a folio under writeback: tagged PG_reclaim, counted in nr_writeback and
    /// activated out of the way of the clean pages (v3.16 kept it on the inactive list).
    /// </summary>
    [Test]
    public void ShrinkFolioList_v6_1_PageUnderWritebackIsTaggedAndActivated()
    {
        var rig = new PressureRig(design: "v6.1", ioLatencyMs: 50);
        rig.Sim.WorkloadFile(1, dirty: 1.0);
        int page = rig.LruList(Zone.LruInactiveFile)[0];
        rig.Get<Writeback>().WakeupFlusherThreads(1 << 20);
        Assert.That(rig.Pages.Test(page, PG.Writeback), Is.True, "precondition: the write takes 50 ms");

        var stats = new PageListReclaim.BatchStats();
        int list = Isolated(rig, page);
        long reclaimed = rig.Get<FolioReclaim>().ShrinkPageList(list, zone: null, new ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 }, stats);

        Assert.That(reclaimed, Is.Zero);
        Assert.That(stats.Writeback, Is.EqualTo(1));
        Assert.That(rig.Pages.Test(page, PG.Reclaim) && rig.Pages.Test(page, PG.Active), Is.True);
        rig.Lists.Del(page);
        rig.Get<Lru>().PutbackLruPage(page);
        rig.Lists.FreeHead(list);
    }

    /// <summary>
    /// out_of_memory (6.1): of processes with equal badness the last one is chosen (oom_evaluate_task's "points &lt;
    /// chosen_points" skips only fewer; v3.16 keeps the first); the kill is printed as 6.1 prints it (the oom-kill
    /// summary, then "Out of memory: Killed process ... UID:0 pgtables:... oom_score_adj:..."), and oom_badness has no
    /// floor (a negative oom_score_adj can push points below zero).
    /// </summary>
    [Test]
    public void OutOfMemory_v6_1_OfEqualProcessesTheLastIsKilled_PrintedAs6_1Does()
    {
        var rig = Rig();
        for (int i = 0; i < 3; i++) rig.Sim.WorkloadAnon(16); // pids 1000, 1001, 1002: equal
        rig.Sim.WorkloadAnon(29);                             // pid 1003 runs out of memory on the way (30 MiB: a second kill, with the page tables)

        var victim = rig.Processes.All.Single(p => p.MemDie);
        Assert.That(victim.Pid, Is.EqualTo(1002), "the last of the equals (v3.16 would take 1000)");
        string dmesg = rig.Sim.Dmesg();
        Assert.That(dmesg, Does.Contain("anon invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=0"),
            "do_anonymous_page's alloc_zeroed_user_highpage_movable: __GFP_ZERO, and vma_alloc_folio's __folio_alloc adds __GFP_COMP");
        Assert.That(dmesg, Does.Contain("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=anon,pid=1002,uid=0"));
        Assert.That(dmesg, Does.Match(@"Out of memory: Killed process 1002 \(anon\) total-vm:16384kB, anon-rss:\d+kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0"), "16 MiB: 8 PTE tables, 1 PMD, 1 PUD");
        Assert.That(dmesg, Does.Not.Contain("or sacrifice child"));
        Assert.That(dmesg, Does.Not.Contain("anon cpuset=/"), "6.1's cpuset is in the summary line only");

        var p = rig.Processes.All[0];
        p.OomScoreAdj = -999;
        Assert.That(Engine.Reclaim.V6_1.OomKiller.OomBadness(p, 1_000_000), Is.Negative);
        Assert.That(Engine.Reclaim.V3_16.OomKiller.OomBadness(p, 1_000_000), Is.EqualTo(1));
        p.OomScoreAdj = -1000;
        Assert.That(Engine.Reclaim.V6_1.OomKiller.OomBadness(p, 1_000_000), Is.EqualTo(long.MinValue));
    }
}
