using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// The optional per-cpu page lists (SimulationOptions.PerCpuLists) against v3.16 mm/page_alloc.c:
/// zone_batchsize / pageset_set_batch, buffered_rmqueue + rmqueue_bulk, free_hot_cold_page +
/// free_pcppages_bulk, drain_pages before the direct-compaction retry, and the page-state check.
/// </summary>
public class PerCpuPagesTests
{
    private static SimRig PcpRig(long memoryMib = 64, int cpus = 1, bool perCpuLists = true) =>
        new(TestOptions.Classic(memoryMib, cpus, 1) with { PerCpuLists = perCpuLists });

    private static Zone ZoneNamed(SimRig rig, string name) => rig.Node.Zones.Single(z => z.Name == name);

    private static PerCpuPages Pcp(SimRig rig, Zone zone, int cpu = 0) => rig.Get<PerCpuPagesets>().Pcp(zone, cpu);

    private static List<int> List(SimRig rig, int head)
    {
        var pfns = new List<int>();
        for (int p = rig.Lists.Next(head); p != head; p = rig.Lists.Next(p)) pfns.Add(p);
        return pfns;
    }

    // managed/1024, capped at 128 (512 KiB), /4, at least 1, then rounddown_pow_of_two(b + b/2) - 1:
    //   4096 → 4 → 1 → rdp2(1) - 1 = 0;   12288 → 12 → 3 → rdp2(4) - 1 = 3;   61440 → 60 → 15 → rdp2(22) - 1 = 15;
    //   258048 → 252 → cap 128 → 32 → rdp2(48) - 1 = 31;   1000 → 0 → 0 → 1 → 0.
    [TestCase(4096L, 0)]
    [TestCase(12288L, 3)]
    [TestCase(61440L, 15)]
    [TestCase(258048L, 31)]
    [TestCase(1000L, 0)]
    public void ZoneBatchsize_v316_WorkedOutByHand(long managedPages, int batch) =>
        Assert.That(PerCpuPages.ZoneBatchsize(managedPages), Is.EqualTo(batch));

    [Test]
    public void PagesetSetBatch_v316_HighIsSixBatchesAndBatchAtLeastOne()
    {
        var small = PcpRig(64, cpus: 2);
        var large = PcpRig(256);
        // 64 MiB: DMA 4096 pages → batch 0 → high 0, batch 1; DMA32 12288 pages → batch 3, high 18.
        Assert.That((Pcp(small, ZoneNamed(small, "DMA"), 1).High, Pcp(small, ZoneNamed(small, "DMA"), 1).Batch), Is.EqualTo((0, 1)));
        Assert.That((Pcp(small, ZoneNamed(small, "DMA32")).High, Pcp(small, ZoneNamed(small, "DMA32")).Batch), Is.EqualTo((18, 3)));
        // 256 MiB: DMA32 61440 pages → batch 15, high 90.
        Assert.That((Pcp(large, ZoneNamed(large, "DMA32")).High, Pcp(large, ZoneNamed(large, "DMA32")).Batch), Is.EqualTo((90, 15)));
    }

    [Test]
    public void BufferedRmqueue_v316_Order0RefillsABatchInRmqueueBulkOrderAndNrFreePagesDropsByBatch()
    {
        // The pages __rmqueue hands out one after another, from the same boot state without pcp.
        var reference = PcpRig(perCpuLists: false);
        var refZone = ZoneNamed(reference, "DMA32");
        var sequence = Enumerable.Range(0, 3).Select(_ => reference.Buddy.BufferedRmqueue(refZone, 0, MigrateType.Movable)).ToList();

        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone);
        long before = zone.FreePages;

        int pfn = rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);

        Assert.That(pfn, Is.EqualTo(sequence[0]), "the head of the refilled list: the first page __rmqueue gave");
        Assert.That(List(rig, pcp.Lists[MigrateType.Movable]), Is.EqualTo(sequence.Skip(1)), "rmqueue_bulk links each page after the previous one");
        Assert.That(pcp.Count, Is.EqualTo(pcp.Batch - 1));
        Assert.That(zone.FreePages, Is.EqualTo(before - pcp.Batch), "rmqueue_bulk lowers NR_FREE_PAGES by the pages moved");
        Assert.That(Harness.NrFreePagesInAreas(zone), Is.EqualTo(zone.FreePages));
        Assert.That(rig.Pages.Index[sequence[1]], Is.EqualTo(MigrateType.Movable), "set_freepage_migratetype");
        Assert.That(rig.Pages.PageBuddy(sequence[1]), Is.False);
    }

    /// <summary>
    /// v3.16 counts PGALLOC per zone in buffered_rmqueue (2^order, the per-cpu path included) and PGFREE in
    /// free_hot_cold_page (1) and __free_pages_ok (2^order); boot frees memory through __free_pages_bootmem →
    /// __free_pages, so pgfree starts at the pages boot freed (here, with the per-cpu lists still empty, NR_FREE_PAGES).
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void PgallocAndPgfree_v316_CountedPerZoneAndPerPage_BootFreesIncluded(bool perCpuLists)
    {
        var rig = PcpRig(perCpuLists: perCpuLists);
        var zone = ZoneNamed(rig, "DMA32");
        long Event(VmEvent e) => rig.VmStat.Event(e);
        Assert.That(Event(VmEvent.Pgfree), Is.EqualTo(rig.Node.Zones.Sum(z => z.FreePages)), "boot");
        Assert.That(Event(VmEvent.PgallocDma32), Is.Zero);
        long freed = Event(VmEvent.Pgfree);

        int block = rig.Buddy.BufferedRmqueue(zone, 2, MigrateType.Movable);
        int page = rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);
        Assert.That((Event(VmEvent.PgallocDma32), Event(VmEvent.PgallocDma)), Is.EqualTo((5L, 0L)));
        rig.Buddy.PutPage(block, 2);
        rig.Buddy.PutPage(page);
        Assert.That(Event(VmEvent.Pgfree) - freed, Is.EqualTo(5));
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain("\npgalloc_dma 0\npgalloc_dma32 5\n").And.Contain($"\npgfree {freed + 5}\n"));
    }

    /// <summary>
    /// v3.16 free_one_page and free_pcppages_bulk zero zone-&gt;pages_scanned under zone-&gt;lock: a zone reclaim had given
    /// up on (scanned six times its reclaimable pages) is reclaimable again once a page reaches its buddy lists. A free
    /// that stays on a per-cpu list does not.
    /// </summary>
    [Test]
    public void PagesScanned_v316_ZeroedWhenAFreeReachesTheBuddyLists_NotByAFreeIntoAPcpList()
    {
        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone);
        int block = rig.Buddy.BufferedRmqueue(zone, 2, MigrateType.Movable);
        int page = rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);

        zone.PagesScanned = 12345;
        rig.Buddy.PutPage(page);
        Assert.That(pcp.Count, Is.LessThan(pcp.High), "precondition: the page stayed on the pcp list");
        Assert.That(zone.PagesScanned, Is.EqualTo(12345), "free_hot_cold_page without a drain");

        rig.Buddy.PutPage(block, 2);
        Assert.That(zone.PagesScanned, Is.Zero, "__free_pages_ok -> free_one_page");

        zone.PagesScanned = 12345;
        rig.Get<PerCpuPagesets>().DrainPages(rig.Buddy, 0);
        Assert.That(zone.PagesScanned, Is.Zero, "drain_pages -> free_pcppages_bulk");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void FreeHotColdPage_v316_AFreedPageIsHandedOutAgainFirst()
    {
        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone);
        int a = rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);
        int b = rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);
        long free = zone.FreePages;
        int count = pcp.Count;

        rig.Buddy.PutPage(a);

        Assert.That(List(rig, pcp.Lists[MigrateType.Movable])[0], Is.EqualTo(a), "list_add at the head (hot)");
        Assert.That(pcp.Count, Is.EqualTo(count + 1));
        Assert.That(zone.FreePages, Is.EqualTo(free), "a free into a pcp list does not touch NR_FREE_PAGES");
        Assert.That(rig.Pages.PageBuddy(a), Is.False);
        Assert.That(rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable), Is.EqualTo(a), "LIFO");
        Assert.That(b, Is.Not.EqualTo(a));
    }

    [Test]
    public void FreePcppagesBulk_v316_AtHighDrainsABatchFromTheTailsRoundRobinAndTheBuddiesMerge()
    {
        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone); // batch 3, high 18
        int[] types = [MigrateType.Unmovable, MigrateType.Reclaimable, MigrateType.Movable];
        // One pageblock per pcp list: an order-9 allocation relabelled to the list's type. Its page +1 is given
        // straight to the buddy, so page +0 merges with it when it is drained.
        int[] blocks = types.Select(mt =>
        {
            int block = rig.Buddy.BufferedRmqueue(zone, Zone.PageblockOrder, MigrateType.Movable);
            zone.SetPageblockMigratetype(block, mt);
            rig.Buddy.FreeOnePage(zone, block + 1, 0, mt);
            rig.Pages.Count[block] = 0; // the order-9 allocation's reference, now handed to page +0
            return block;
        }).ToArray();
        // 6 + 6 + 5 pages: page +0 first (it becomes the tail), then +2, +3 ...
        for (int i = 0; i < 3; i++)
            foreach (int p in new[] { 0, 2, 3, 4, 5, 6 }.Take(i == 2 ? 5 : 6))
                rig.Buddy.FreePages(blocks[i] + p, 0);
        Assert.That(pcp.Count, Is.EqualTo(17), "precondition: one below high");
        long free = zone.FreePages;
        long[] nrFree = zone.NrFree.AsSpan().ToArray();
        string buddyinfo = rig.Sim.Buddyinfo();

        rig.Buddy.FreePages(blocks[2] + 6, 0);

        Assert.That(pcp.Count, Is.EqualTo(18 - 3), "count reached high: one batch freed");
        Assert.That(zone.FreePages, Is.EqualTo(free + 3), "NR_FREE_PAGES rises per drained page");
        for (int i = 0; i < 3; i++)
        {
            Assert.That(List(rig, pcp.Lists[types[i]]), Does.Not.Contain(blocks[i]), $"the tail of list {i} went first");
            Assert.That((rig.Pages.PageBuddy(blocks[i]), rig.Pages.PageOrder(blocks[i])), Is.EqualTo((true, 1)), "merged with page +1");
            Assert.That(List(rig, zone.FreeList(1, types[i])), Does.Contain(blocks[i]), "on the list of its freepage migratetype");
        }
        Assert.That(zone.NrFree[0], Is.EqualTo(nrFree[0] - 3));
        Assert.That(zone.NrFree[1], Is.EqualTo(nrFree[1] + 3));
        Assert.That(rig.Sim.Buddyinfo(), Is.Not.EqualTo(buddyinfo));
    }

    [Test]
    public void FreePcppagesBulk_v316_AfterAnEmptyListTheNextListGivesAsManyPagesAsListsWereVisited()
    {
        var rig = PcpRig(256);
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone); // batch 15, high 90
        int reclaimable = rig.Buddy.BufferedRmqueue(zone, Zone.PageblockOrder, MigrateType.Movable);
        int movable = rig.Buddy.BufferedRmqueue(zone, Zone.PageblockOrder, MigrateType.Movable);
        zone.SetPageblockMigratetype(reclaimable, MigrateType.Reclaimable);
        rig.Pages.Count[reclaimable] = rig.Pages.Count[movable] = 0;
        for (int p = 0; p < 45; p++) rig.Buddy.FreePages(reclaimable + p, 0);
        for (int p = 0; p < 44; p++) rig.Buddy.FreePages(movable + p, 0);

        rig.Buddy.FreePages(movable + 44, 0);

        // UNMOVABLE is empty. Turns: RECLAIMABLE 1, MOVABLE 1, then (UNMOVABLE empty, RECLAIMABLE found after
        // two visits) 2 + MOVABLE 1, four times, and the last page from RECLAIMABLE: 10 + 5, oldest first.
        Assert.That(pcp.Count, Is.EqualTo(90 - 15));
        Assert.That(List(rig, pcp.Lists[MigrateType.Reclaimable]), Is.EqualTo(Enumerable.Range(reclaimable + 10, 35).Reverse()));
        Assert.That(List(rig, pcp.Lists[MigrateType.Movable]), Is.EqualTo(Enumerable.Range(movable + 5, 40).Reverse()));
    }

    [Test]
    public void FreeHotColdPage_v316_ReservePagesGoOnTheMovableListKeepingTheirType_IsolateStraightToTheBuddy()
    {
        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone);
        int reserve = rig.Buddy.BufferedRmqueue(zone, Zone.PageblockOrder, MigrateType.Movable);
        int isolate = rig.Buddy.BufferedRmqueue(zone, Zone.PageblockOrder, MigrateType.Movable);
        zone.SetPageblockMigratetype(reserve, MigrateType.Reserve);
        zone.SetPageblockMigratetype(isolate, MigrateType.Isolate);
        rig.Pages.Count[reserve] = rig.Pages.Count[isolate] = 0;
        long free = zone.FreePages;

        rig.Buddy.FreePages(reserve, 0);
        rig.Buddy.FreePages(isolate, 0);

        Assert.That(List(rig, pcp.Lists[MigrateType.Movable]), Is.EqualTo(new[] { reserve }));
        Assert.That(rig.Pages.Index[reserve], Is.EqualTo(MigrateType.Reserve));
        Assert.That(rig.Pages.PageBuddy(isolate), Is.True);
        Assert.That(List(rig, zone.FreeList(0, MigrateType.Isolate)), Is.EqualTo(new[] { isolate }));
        Assert.That(zone.FreePages, Is.EqualTo(free), "neither counts: pcp pages and ISOLATE pageblocks are outside NR_FREE_PAGES");
    }

    [Test]
    public void PageStateCheck_v316_PcpPagesAreFreeButOutsideNrFreePagesAndTheCheckStaysClean()
    {
        static (SimRig, long) Run(bool perCpuLists)
        {
            var rig = PcpRig(perCpuLists: perCpuLists);
            rig.Sim.WorkloadAnon(24);
            rig.Sim.WorkloadFree(0.5, "random", 3);
            return (rig, rig.Node.Zones.Sum(z => z.FreePages));
        }
        var (plain, plainFree) = Run(false);
        var (rig, free) = Run(true);
        long onPcp = rig.Node.Zones.Sum(z => (long)Pcp(rig, z).Count);

        Assert.That(onPcp, Is.GreaterThan(0));
        Assert.That(free + onPcp, Is.EqualTo(plainFree), "the same pages are free; NR_FREE_PAGES leaves out those on pcp lists");
        Assert.That(rig.Node.Zones.Select(Harness.NrFreePagesInAreas), Is.EqualTo(rig.Node.Zones.Select(z => z.FreePages)));
        Assert.That(rig.Sim.Reports, Is.Empty, "the check ran after each operation");
        Assert.That(plain.Sim.Reports, Is.Empty);
    }

    [Test]
    public void PageStateCheck_ReportsAPcpCountThatDisagreesWithItsListsAndAReferencedPcpPage()
    {
        var rig = PcpRig();
        var zone = ZoneNamed(rig, "DMA32");
        var pcp = Pcp(rig, zone);
        rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable);
        int onList = List(rig, pcp.Lists[MigrateType.Movable])[0];
        pcp.Count++;
        rig.Pages.Count[onList] = 1;

        rig.Sim.CheckInvariants();

        var messages = rig.Sanitizer.Reports.Where(r => r.Kind == ReportKind.Accounting).Select(r => r.Message).ToList();
        Assert.That(messages, Has.Some.Contains("pcp->count = 3 but its lists hold 2 pages"));
        Assert.That(messages, Has.Some.Contains($"pfn {onList} is on a per-cpu list but has _count 1"));
    }

    [Test]
    public void AllocPagesDirectCompact_v316_DrainsTheLocalCpusListsBeforeTheRetry()
    {
        var rig = PcpRig(128, cpus: 2);
        rig.Sim.WorkloadAnon(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        var zone = rig.Node.LargestZone;
        // CPU 1 takes a page (refilling its list) and frees it again.
        rig.Sim.RunKernelPaths("cpu1", [new SimTask(1, 1, "cpu1", () => rig.Buddy.PutPage(rig.Buddy.BufferedRmqueue(zone, 0, MigrateType.Movable)))], null);
        int cpu1 = Pcp(rig, zone, 1).Count;
        Assert.That(Pcp(rig, zone, 0).Count, Is.GreaterThan(0), "precondition: the workload's frees sit on CPU 0's lists");
        Assert.That(cpu1, Is.GreaterThan(0));
        Assert.That(rig.Sim.FreeBlocks().Skip(9).Sum(), Is.Zero, "precondition: the fast path fails");

        Assert.That(rig.Sim.Allocate(9, 1), Is.EqualTo(1));

        Assert.That(rig.VmStat.Event(VmEvent.CompactStall), Is.EqualTo(1));
        Assert.That(rig.Node.Zones.Select(z => Pcp(rig, z, 0).Count), Is.All.Zero, "drain_pages(this cpu) before get_page_from_freelist");
        Assert.That(Pcp(rig, zone, 1).Count, Is.EqualTo(cpu1), "other CPUs' lists are not drained");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void PerCpuLists_OnByDefault_SameWorkloadSameBuddyinfo_OffDiffers()
    {
        static Simulation Run(SimulationOptions options)
        {
            var sim = Simulation.Create(options);
            sim.WorkloadAnon(20);
            sim.WorkloadSlab(4);
            sim.WorkloadFree(0.4, "random", 7);
            sim.Compact();
            return sim;
        }
        var byDefault = Run(new SimulationOptions { MemoryMib = 64, Cpus = 1, Seed = 1 });
        var off = Run(new SimulationOptions { MemoryMib = 64, Cpus = 1, Seed = 1, PerCpuLists = false });
        var on = Run(new SimulationOptions { MemoryMib = 64, Cpus = 1, Seed = 1, PerCpuLists = true });

        Assert.That(new SimulationOptions().PerCpuLists, Is.True, "v3.16 has them: on by default (issue 9)");
        Assert.That(on.Buddyinfo(), Is.EqualTo(byDefault.Buddyinfo()));
        Assert.That(on.VmstatValues(), Is.EqualTo(byDefault.VmstatValues()));
        Assert.That(on.HistoryValues(), Is.EqualTo(byDefault.HistoryValues()));
        Assert.That(on.Buddyinfo(), Is.Not.EqualTo(off.Buddyinfo()));
        Assert.That(PcpRig(perCpuLists: false).Get<IServiceProvider>().GetService(typeof(PerCpuPagesets)), Is.Null, "the layer is not composed");
        Assert.That(on.Reports, Is.Empty);
    }
}
