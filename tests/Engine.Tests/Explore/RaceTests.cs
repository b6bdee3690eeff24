using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// Races written as operations per CPU (Python's sim.race): checked before anything is built, bound on a fork of the
/// user's simulation, explored from its restored prepared state; presets are the same thing written in C#.
/// </summary>
public class RaceTests
{
    /// <summary>The guest deflate-vs-isolate prepares: one anon page, then four balloon pages right after it.</summary>
    private static (Simulation Sim, int Lru, int End) BalloonGuest(string design, long seed)
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 2, seed, design));
        sim.WorkloadAnon(1 / 256.0);
        sim.BalloonInflate(4 / 256.0);
        var map = sim.PageMap();
        return (sim, Array.IndexOf(map, (byte)PageKind.Anon), Array.LastIndexOf(map, (byte)PageKind.Balloon) + 1);
    }

    private static Race FromOps(Simulation sim, params (int Cpu, RaceOp[] Ops)[] cpus) =>
        RaceBuilder.FromOps(sim, cpus.Select(c => (c.Cpu, (IReadOnlyList<RaceOp>)c.Ops)).ToArray());

    /// <summary>Explore <paramref name="schedules"/> schedules of <paramref name="race"/> on one host thread; none may fail.</summary>
    private static void AssertNoScheduleFails(Race race, string strategy, long seed, int schedules)
    {
        var result = Explorer.Explore(race, new ExploreRequest(strategy, seed, threads: 1), 0, schedules);
        Assert.That(result.Failing, Is.Zero, string.Join(", ", result.FailingByKind));
    }

    [TestCase("legacy")]
    [TestCase("redesign")]
    public void Preset_IsTheRaceItsOperationsWrite_SameFailingSchedules(string design)
    {
        var (sim, lru, end) = BalloonGuest(design, 5);
        var race = FromOps(sim, (0, [RaceOp.Of("deflate", ("pages", 4))]), (1, [RaceOp.Of("isolate", ("start", lru), ("end", end))]));

        var written = Explorer.Explore(race, new ExploreRequest("random", 5), 0, 150);
        var preset = Explorer.Explore("deflate-vs-isolate", design, "random", 150, 5);

        Assert.That(written.Failing, Is.Positive);
        Assert.That(written.FailingIndices, Is.EqualTo(preset.FailingIndices));
        Assert.That(written.FailingByKind, Is.EqualTo(preset.FailingByKind));
        Assert.That(written.FirstFailure!.Choices, Is.EqualTo(preset.FirstFailure!.Choices));
    }

    [Test]
    public void FromOps_LeavesTheUsersSimulationAsItWas()
    {
        var (sim, lru, end) = BalloonGuest("legacy", 1);
        var map = sim.PageMap();
        var history = sim.HistoryValues();
        var race = FromOps(sim, (0, [RaceOp.Of("deflate", ("pages", 4))]), (1, [RaceOp.Of("migrate", ("pfn", lru))]));

        Explorer.Explore(race, new ExploreRequest("random", 1), 0, 20);

        Assert.That(race.Tasks.Select(t => t.Name), Is.EqualTo(new[] { "leak_balloon(4)", $"migrate_pages(pfn {lru} -> {end})" }));
        Assert.That(sim.PageMap(), Is.EqualTo(map));
        Assert.That(sim.HistoryValues(), Is.EqualTo(history));
    }

    private static IEnumerable<TestCaseData> BadRaces()
    {
        var deflate = new[] { RaceOp.Of("deflate", ("pages", 1)) };
        yield return new TestCaseData(new (int, RaceOp[])[0], "race: no CPU has operations").SetName("no CPU");
        yield return new TestCaseData(new[] { (2, deflate) }, "cpu2: no such CPU: the simulation has cpu0..cpu1").SetName("CPU out of range");
        yield return new TestCaseData(new[] { (-1, deflate) }, "cpu-1: no such CPU").SetName("negative CPU");
        yield return new TestCaseData(new[] { (0, deflate), (1, deflate), (1, deflate) }, "3 CPUs have operations, but the simulation has 2").SetName("more CPUs than it has");
        yield return new TestCaseData(new[] { (0, new RaceOp[0]) }, "cpu0: empty list of operations").SetName("empty list");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("kswapd") }) }, "cpu0[0]: this simulation (legacy) has no kswapd operation: it was built with reclaim=False").SetName("not in the simulation");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("fly") }) }, "cpu0[0]: operation must be one of inflate, deflate").SetName("unknown operation");
        yield return new TestCaseData(new[] { (1, new[] { RaceOp.Of("deflate", ("pages", 0)) }) }, "cpu1[0] pages must be in [1,").SetName("argument out of range");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("deflate", ("pages", 1), ("mode", "sync")) }) }, "cpu0[0] deflate: has no argument 'mode'").SetName("unknown argument");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("deflate") }) }, "cpu0[0] pages: is required").SetName("missing argument");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("compact", ("mode", "eager")) }) }, "cpu0[0] mode must be one of async, sync_light, sync").SetName("bad mode");
        yield return new TestCaseData(new[] { (0, new[] { RaceOp.Of("migrate", ("pfn", 0)) }) }, "cpu0[0] pfn: pfn 0 is not on an LRU list").SetName("migrate a page that is not on an LRU");
        yield return new TestCaseData(new[] { (0, deflate), (1, new[] { RaceOp.Of("inflate", ("pages", 1)) }) },
            "cpu1: inflate and deflate run on the balloon driver's one thread, but cpu0 has some too").SetName("balloon driver on two CPUs");
    }

    [TestCaseSource(nameof(BadRaces))]
    public void FromOps_BadInput_IsAnArgumentExceptionNamingIt_AndChangesNothing((int Cpu, RaceOp[] Ops)[] cpus, string message)
    {
        var (sim, _, _) = BalloonGuest("legacy", 1);
        var map = sim.PageMap();

        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => FromOps(sim, cpus))!;

        Assert.That(e.Message, Does.Contain(message));
        Assert.That(sim.PageMap(), Is.EqualTo(map));
        Assert.That(sim.HistoryOps, Has.Count.EqualTo(3));
    }

    [Test]
    public void EveryOperation_RunsAsAKernelPath_InEveryDesignThatHasIt()
    {
        foreach (var design in KernelDesign.All)
        {
            var sim = Simulation.Create(TestOptions.Classic(32, 2, 2, design.Name));
            sim.WorkloadAnon(8);
            sim.WorkloadFree(0.5, "interleave", 0);
            sim.BalloonInflate(2);
            int lru = Array.IndexOf(sim.PageMap(), (byte)PageKind.Anon);
            RaceOp[] ops =
            [
                RaceOp.Of("inflate", ("pages", 300)), RaceOp.Of("deflate", ("pages", 10)), RaceOp.Of("compact", ("mode", "async")),
                RaceOp.Of("compact", ("zone", "DMA32")), RaceOp.Of("allocate", ("order", 3), ("count", 2)), RaceOp.Of("anon", ("pages", 5)),
                RaceOp.Of("file", ("pages", 5)), RaceOp.Of("slab", ("pages", 1)), RaceOp.Of("free", ("fraction", 0.25), ("pattern", "random")),
                RaceOp.Of("isolate", ("then", "migrate")), RaceOp.Of("isolate", ("mode", "async")),
            ];
            var race = FromOps(sim, (0, [RaceOp.Of("migrate", ("pfn", lru))]), (1, ops));

            var run = race.Run(0, null);

            Assert.That(race.Tasks[1].Name, Does.StartWith("fill_balloon(300) + leak_balloon(10) + compact_memory(async) + compact_zone(DMA32, sync)"));
            Assert.That(run.Reports.Where(r => r.KindName != "balloon_unmovable"), Is.Empty, design.Name);
            Assert.That(run.Delta("balloon_pages"), Is.EqualTo(290), design.Name);
        }
    }

    /// <summary>
    /// lru_add_drain_all (compact_memory's, before it compacts: v3.16 compact_nodes, 6.1 alike) runs lru_add_drain_cpu as
    /// work on each CPU: never inside that CPU's own __lru_cache_add or drain, which run with preemption off. A fault on
    /// one CPU filling its pagevec while another CPU drained every pagevec used to drain the first CPU's from under it (an
    /// exception in the engine, "Collection was modified", in most schedules; then with munmap's drain, which is local).
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void LruAddDrainAll_WaitsForAnotherCpusPagevecSection_NoExceptionNoFinding(string design)
    {
        var sim = Simulation.Create(TestOptions.Classic(24, 2, 1, design) with { Pagevecs = true });
        sim.WorkloadAnon(6);
        sim.WorkloadFile(4);
        var race = FromOps(sim, (0, [RaceOp.Of("anon", ("pages", 40))]), (1, [RaceOp.Of("compact")]));

        AssertNoScheduleFails(race, "random", 1, 300);
        var waits = Enumerable.Range(0, 100).Select(seed => race.Run(0, new RandomStrategy(seed)))
            .Count(run => run.Trace.Any(t => t.Point == "blocked: lru_add_pvec of cpu0"));
        Assert.That(waits, Is.Positive, "no schedule had the free wait for the fault's pagevec section");
    }

    /// <summary>
    /// Two CPUs freeing workload pages (munmap, truncate, kmem_cache_free), or one freeing while reclaim takes pages:
    /// each frees what is still the workload's when its turn comes (zap_pte_range finds the PTE, truncate checks
    /// page-&gt;mapping). A page chosen by both used to be freed twice: list_del corruption, put_page on _count 0.
    /// </summary>
    [TestCase("fixed", false)]
    [TestCase("v6.1", true)]
    public void WorkloadFrees_OnTwoCpus_OrAgainstReclaim_FreeEachPageOnce(string design, bool reclaim)
    {
        var sim = Simulation.Create(TestOptions.Classic(24, 2, 1, design) with { Reclaim = reclaim, Pagevecs = true, PerCpuLists = true });
        sim.WorkloadAnon(7);
        sim.WorkloadFile(5);
        RaceOp[] other = reclaim ? [RaceOp.Of("reclaim")] : [RaceOp.Of("free", ("fraction", 0.5), ("pattern", "random"), ("seed", 3))];
        var race = FromOps(sim, (0, [RaceOp.Of("free", ("fraction", 0.5))]), (1, other));

        AssertNoScheduleFails(race, "random", 1, 200);
    }

    /// <summary>
    /// drain_all_pages reaches another CPU's per-cpu lists only outside that CPU's section on them: v3.16 (and v4.8) by an
    /// IPI that runs drain_local_pages on each CPU, never inside its interrupts-off free_hot_cold_page or buffered_rmqueue.
    /// A CPU returning a batch from its lists (free_pcppages_bulk, preempted at zone-&gt;lock) had them drained under it by
    /// an allocation's drain on the other CPU: accounting (a batch to free from empty lists, pcp-&gt;count -1).
    /// </summary>
    [TestCase("fixed")]
    [TestCase("movable")]
    public void DrainAllPages_FromAnotherCpu_WaitsOutTheCpusSectionOnItsLists(string design)
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 2, 452, design) with { PerCpuLists = true, Reclaim = true });
        sim.WorkloadAnon(2.484);
        sim.WorkloadFile(1.979);
        sim.BalloonInflate(2.206);
        var race = FromOps(sim,
            (0, [RaceOp.Of("inflate", ("pages", 33)), RaceOp.Of("allocate", ("order", 9)), RaceOp.Of("anon", ("pages", 59)), RaceOp.Of("reclaim")]),
            (1, [RaceOp.Of("compact", ("mode", "async")), RaceOp.Of("allocate", ("order", 9), ("count", 3))]));

        AssertNoScheduleFails(race, "pct", 200, 300);
        Assert.That(SchedulesBlockedAt(race, "pct", 200, 300, "per-cpu lists of cpu"), Is.Positive,
            "no schedule had a drain wait for a CPU's section on its lists");
    }

    /// <summary>
    /// 6.1 drains another CPU's per-cpu lists from the draining CPU (drain_pages_zone under the pageset's pcp-&gt;lock);
    /// the owner takes its own lock with pcp_spin_trylock_irqsave and, while a drain holds it, allocates from the buddy
    /// and frees to it instead. The drain used to run under an owner freeing a batch: accounting.
    /// </summary>
    [Test]
    public void DrainAllPages_v61_DrainsUnderThePagesetsLock_WhichTheOwnersTrylockFallsBackFrom()
    {
        var sim = Simulation.Create(TestOptions.Classic(24, 2, 874, "v6.1") with
        {
            PerCpuLists = true, Pagevecs = true, Reclaim = true, HostUsPerPage = 1,
        });
        // The fuzzer's guest had 10.72 MiB of anon memory; with page tables allocated, no schedule of that guest reaches
        // compaction or a drain any more. 9.5 MiB does (found by a search over the anon and file sizes).
        sim.WorkloadAnon(9.5);
        sim.WorkloadFile(4.22);
        sim.BalloonInflate(1.79);
        var race = FromOps(sim,
            (0, [RaceOp.Of("allocate", ("order", 3), ("count", 3)), RaceOp.Of("allocate", ("order", 9), ("count", 3)), RaceOp.Of("anon", ("pages", 27))]),
            (1, [RaceOp.Of("anon", ("pages", 22)), RaceOp.Of("slab", ("pages", 59)), RaceOp.Of("anon", ("pages", 55))]));

        AssertNoScheduleFails(race, "random", 1, 100);
        Assert.That(SchedulesBlockedAt(race, "random", 1, 100, "zone DMA pcp->lock of cpu"), Is.Positive,
            "no schedule had a drain wait for a pageset's lock");
    }

    /// <summary>How many of the first <paramref name="schedules"/> schedules an exploration with this strategy and seed runs had a path blocked at a point named <paramref name="point"/>...</summary>
    private static int SchedulesBlockedAt(Race race, string strategy, long seed, int schedules, string point)
    {
        var request = new ExploreRequest(strategy, seed);
        long decisions = race.Run(-1, new RoundRobinStrategy()).Choices.Count;
        return Enumerable.Range(0, schedules)
            .Select(i => race.Run(i, strategy == "pct" ? new PctStrategy(request.ScheduleSeed(i), request.PctDepth, decisions) : new RandomStrategy(request.ScheduleSeed(i))))
            .Count(run => run.Trace.Any(t => t.Point.StartsWith("blocked: " + point)));
    }

    /// <summary>
    /// 6.1's migrate scanner takes a page with get_page_unless_zero and TestClearPageLRU, then lru_lock to take it off
    /// the list. A munmap meanwhile drops only its own reference (the LRU is the last put's business); it used to take the
    /// page off the LRU itself, under the scanner: list_del corruption.
    /// </summary>
    [Test]
    public void WorkloadFree_AgainstV61Compaction_LeavesTheLruToTheLastReference()
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 3, 371, "v6.1"));
        sim.WorkloadAnon(0.957);
        var race = FromOps(sim, (1, [RaceOp.Of("free", ("fraction", 0.777))]), (2, [RaceOp.Of("compact")]));

        AssertNoScheduleFails(race, "random", 597, 60);
    }

    /// <summary>
    /// balloon_page_isolate (v3.18–v4.7) takes a speculative reference on what looked like a balloon page; by its
    /// put_page the page may be an LRU page whose other references went meanwhile (migrated by another compaction and
    /// reused). The put must be the LRU-aware one: it was a plain free, of a page with PG_lru set (bad_page).
    /// </summary>
    [Test]
    public void BalloonPageIsolate_FailedIsolationOfAReusedPage_PutsItOffTheLru()
    {
        var sim = Simulation.Create(TestOptions.Classic(32, 2, 274, "fixed"));
        sim.WorkloadFile(4.47);
        sim.BalloonInflate(0.076);
        sim.WorkloadFree(0.702, "random", 44);
        var race = FromOps(sim, (0, [RaceOp.Of("file", ("pages", 27)), RaceOp.Of("isolate", ("mode", "async"), ("then", "migrate"))]),
            (1, [RaceOp.Of("compact")]));

        AssertNoScheduleFails(race, "pct", 83, 60);
    }

    /// <summary>
    /// Reclaim swapping a page out while the workload unmaps it: writepage sets PG_writeback before it unlocks the page,
    /// so free_swap_and_cache (the PTE is a swap entry by then) leaves the page in the swap cache. pageout used to unlock
    /// first: the page left the swap cache in between, went under writeback, and reclaim's putback freed it so (bad_page).
    /// </summary>
    [Test]
    public void WorkloadFree_AgainstReclaimSwappingOut_FreesTheSlotAndLeavesThePageUnderWriteback()
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 2, 221, "fixed") with { Reclaim = true, SwapMib = 8 });
        sim.WorkloadAnon(3.576);
        sim.WorkloadFree(0.289, "interleave", 86);
        var race = FromOps(sim, (0, [RaceOp.Of("free", ("fraction", 0.623), ("pattern", "random"), ("seed", 6))]), (1, [RaceOp.Of("reclaim")]));

        AssertNoScheduleFails(race, "random", 1, 100);
    }

    /// <summary>
    /// Sync compaction waits in wait_on_page_writeback for a page reclaim is swapping out; the other CPU has finished.
    /// Every path left is blocked, so time passes, as it does for a path run to completion: the write completes and
    /// compaction goes on. It used to be reported as a deadlock (timers fired only for a sleeping path).
    /// </summary>
    [Test]
    public void EveryPathBlockedOnWriteback_TimePasses_TheIoCompletes_NoDeadlock()
    {
        var sim = Simulation.Create(TestOptions.Classic(32, 2, 377, "movable") with { Reclaim = true, SwapMib = 8 });
        sim.WorkloadAnon(4.429);
        sim.WorkloadFree(0.285, "interleave", 96);
        var race = FromOps(sim, (0, [RaceOp.Of("reclaim"), RaceOp.Of("compact")]), (1, [RaceOp.Of("anon", ("pages", 1))]));

        AssertNoScheduleFails(race, "pct", 21, 30);
    }

    /// <summary>
    /// A page-cache page being read in is locked from add_to_page_cache until the read completes; truncate waits for
    /// the lock. A free used to truncate a page a fault on another CPU was still adding to the LRU: freed, then marked
    /// PG_lru in the buddy lists (bad_page at the next allocation, list corruption).
    /// </summary>
    [Test]
    public void WorkloadFree_AgainstAFileFault_TruncateWaitsForThePageBeingReadIn()
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 2, 596, "movable"));
        sim.WorkloadAnon(0.136);
        sim.WorkloadFile(1.122);
        sim.BalloonInflate(3.82);
        var race = FromOps(sim, (0, [RaceOp.Of("free", ("fraction", 0.204), ("pattern", "random"), ("seed", 6))]), (1, [RaceOp.Of("file", ("pages", 61))]));

        AssertNoScheduleFails(race, "random", 943, 60);
    }

    /// <summary>
    /// munmap of a page under migration finds a migration entry in its PTE: zap_pte_range clears it, so
    /// remove_migration_ptes maps the new page nowhere and the data stops existing. The PTE used to be taken for a
    /// present page: the old page unmapped twice, the new one mapped where the process had nothing; and a retried
    /// migrate op reused its target after freeing it.
    /// </summary>
    [Test]
    public void WorkloadFree_AgainstMigration_ZapsTheMigrationEntry()
    {
        var sim = Simulation.Create(TestOptions.Classic(32, 2, 53, "fixed") with { PerCpuLists = true, Reclaim = true, HostUsPerPage = 1 });
        sim.WorkloadAnon(5.69);
        sim.BalloonInflate(8.918);
        sim.WorkloadFree(0.784, "random", 39);
        // The fuzzer's page was pfn 6417; with page tables allocated the layout moved: the first anonymous page from
        // there up that the free (interleave, seed 0) takes, as a fork running it alone shows.
        int pfn = Enumerable.Range(6417, sim.PageMap().Length - 6417).First(p =>
        {
            if (sim.PageMap()[p] != (byte)PageKind.Anon) return false;
            var fork = sim.Fork();
            fork.WorkloadFree(0.801, "interleave", 0);
            return fork.PageMap()[p] != (byte)PageKind.Anon;
        });
        var race = FromOps(sim, (0, [RaceOp.Of("migrate", ("pfn", pfn))]), (1, [RaceOp.Of("free", ("fraction", 0.801))]));

        AssertNoScheduleFails(race, "pct", 171, 60);
    }

    /// <summary>
    /// An anonymous fault maps its page (rmap, LRU) and writes the PTE under the PTE lock; compaction's try_to_unmap
    /// takes that lock, so it waits for the PTE. It used to migrate the page before the PTE was written: the fault then
    /// wrote the old, freed page into the PTE, and the process's munmap put it again (put_page on _count 0).
    /// </summary>
    [Test]
    public void AnonFault_AgainstCompaction_TryToUnmapWaitsForThePte()
    {
        var sim = Simulation.Create(TestOptions.Classic(24, 2, 407, "v6.1"));
        sim.WorkloadAnon(6.258);
        sim.WorkloadFree(0.955, "interleave", 6);
        var race = FromOps(sim, (0, [RaceOp.Of("anon", ("pages", 17)), RaceOp.Of("free", ("fraction", 0.132), ("pattern", "random"), ("seed", 7))]),
            (1, [RaceOp.Of("compact")]));

        AssertNoScheduleFails(race, "pct", 859, 60);
    }

    /// <summary>isolate's default range is the balloon's pages in one zone: the migrate scanner works in one zone.</summary>
    [Test]
    public void Isolate_ByDefault_ScansTheBalloonPagesOfTheLowestBalloonPagesZone()
    {
        var sim = Simulation.Create(TestOptions.Classic(24, 2, 1, "fixed"));
        sim.WorkloadAnon(6);
        sim.WorkloadFree(0.3, "random", 2);
        sim.BalloonInflate(6);
        var map = sim.PageMap();
        int lowest = Array.IndexOf(map, (byte)PageKind.Balloon), highest = Array.LastIndexOf(map, (byte)PageKind.Balloon);
        int dma32 = 16 * 256;
        Assume.That(lowest < dma32 && highest >= dma32, "the balloon spans DMA and DMA32");

        var race = FromOps(sim, (0, [RaceOp.Of("deflate", ("pages", 8))]), (1, [RaceOp.Of("isolate")]));

        int last = Array.LastIndexOf(map, (byte)PageKind.Balloon, dma32 - 1);
        Assert.That(race.Tasks[1].Name, Does.StartWith($"isolate_migratepages_range({lowest}, {last + 1}, sync)"));
        AssertNoScheduleFails(race, "random", 1, 50);
    }

    [Test]
    public void NewpageAfterUnlock_v318_DriverReleasesAPagePutOnTheLru_FixedDesignDoesNot()
    {
        var redesign = Explorer.Explore("newpage-after-unlock", "redesign", "dfs", 10_000, 0, pctDepth: 2);
        var fixedDesign = Explorer.Explore("newpage-after-unlock", "fixed", "dfs", 10_000, 0, pctDepth: 2);

        Assert.That(redesign.Exhausted && fixedDesign.Exhausted);
        Assert.That(redesign.FailingByKind.Keys, Does.Contain("bad_page"));
        Assert.That(redesign.FirstFailure!.Trace.Select(t => t.Point), Does.Contain("unlock_page"));
        Assert.That(fixedDesign.Failing, Is.Zero);
    }

    [Test]
    public void NewpageAfterUnlock_v4_8_DequeueLeavesNewpageTagged_NoFindingInAnyScheduleWithUpToTwoPreemptions()
    {
        var movable = Explorer.Explore("newpage-after-unlock", "movable", "dfs", 10_000, 0, pctDepth: 2);
        Assert.That(movable.Exhausted, Is.True);
        Assert.That(movable.Failing, Is.Zero, "__PageMovable(newpage) after the unlock cannot go wrong in v4.8 (movable-v4.8.md §2.6)");
    }

    [TestCase("redesign")]
    [TestCase("fixed")]
    [TestCase("movable")]
    public void InflateVsCompact_BalloonLockMakesMigratepageBackOff_NoFinding(string design) =>
        Assert.That(Explorer.Explore("inflate-vs-compact", design, "pct", 150, 1).Failing, Is.Zero);

    [Test]
    public void InflateVsCompact_v316_MigratedPagesBecomeUnmovable_Defect2Only()
    {
        var r = Explorer.Explore("inflate-vs-compact", "legacy", "pct", 150, 1);
        Assert.That(r.FailingByKind.Keys, Is.EqualTo(new[] { "balloon_unmovable" }));
    }

    /// <summary>
    /// A pass of free page reporting (6.1 page_reporting_process) against compaction, order-9 allocations and a workload's
    /// frees on two other CPUs: the pass holds up to 32 free blocks off the free lists while it waits for the host, with
    /// the zone lock dropped, and puts them back; the others find them gone or back, and nothing is lost or freed twice.
    /// </summary>
    [Test]
    public void PageReportingProcess_AgainstCompactionAllocationAndFrees_NoScheduleFails()
    {
        var sim = Simulation.Create(TestOptions.Classic(128, 3, 5, "v6.1") with { FreePageReporting = true, HostUsPerPage = 1 });
        sim.WorkloadAnon(16);
        sim.WorkloadFree(0.5, "random", 1);
        var race = FromOps(sim, (0, [RaceOp.Of("report")]),
            (1, [RaceOp.Of("compact", ("zone", "DMA32"), ("mode", "async")), RaceOp.Of("allocate", ("order", 9), ("count", 2))]),
            (2, [RaceOp.Of("free", ("fraction", 0.5))]));

        var run = race.Run(0, null);
        Assert.That(run.Reports, Is.Empty);
        Assert.That(Simulation.FromSnapshot(race.StateNow()).HostReports, Is.Positive, "the pass reported free blocks");
        Assert.That(Enumerable.Range(1, 10).Any(i => OtherCpuRanDuringTheReport(race.Run(i, new RandomStrategy(i)).Trace)), Is.True,
            "some schedule runs another CPU while the pass waits for the host");
        AssertNoScheduleFails(race, "random", 7, 40);
        AssertNoScheduleFails(race, "pct", 8, 40);
    }

    private static bool OtherCpuRanDuringTheReport(IReadOnlyList<TraceEntry> trace)
    {
        int wait = trace.ToList().FindIndex(t => t.Cpu == 0 && t.Point.Contains("virtballoon_free_page_report"));
        return wait >= 0 && wait + 1 < trace.Count && trace[wait + 1].Cpu != 0;
    }

    [Test]
    public void Report_OnAGuestWithoutFreePageReporting_IsAnArgumentExceptionSayingWhy()
    {
        var sim = Simulation.Create(TestOptions.Classic(16, 2, 1, "v6.1"));
        var e = Assert.Throws<ArgumentException>(() => FromOps(sim, (0, [RaceOp.Of("report")]), (1, [RaceOp.Of("compact")])))!;
        Assert.That(e.Message, Does.Contain("has no report operation").And.Contain("free_page_reporting"));
    }
}
