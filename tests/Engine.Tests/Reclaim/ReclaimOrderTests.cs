using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>The order v3.16 reclaim takes pages in, on small hand-built LRU states (docs/kernel/reclaim-v3.16.md §2).</summary>
public class ReclaimOrderTests
{
    [Test]
    public void ShrinkLruvec_v3_16_ReclaimsInactiveFilePagesBeforeActiveOnes()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadFile(16);
        var inactive = rig.LruList(Zone.LruInactiveFile);
        rig.Access(inactive.Take(inactive.Count / 3), times: 2); // read twice: activated
        var active = rig.LruList(Zone.LruActiveFile).ToHashSet();
        Assert.That(active, Has.Count.EqualTo(inactive.Count / 3));

        long progress = rig.DirectReclaim();

        long stolen = rig.EventAllZones(VmEvent.PgstealDirectDma);
        Assert.That(progress, Is.EqualTo(stolen).And.GreaterThanOrEqualTo(ScanControl.SwapClusterMax), "try_to_free_pages stops once 32 are reclaimed");
        Assert.That(rig.LruList(Zone.LruActiveFile).ToHashSet(), Is.EquivalentTo(active), "the active list is not touched while the inactive one is at least as big");
        long stolenHere = rig.Event(VmEvent.PgstealDirectDma + rig.Zone.Index); // the zone the lists above are of
        Assert.That(rig.Zone.Stat[(int)ZoneStat.NrInactiveFile], Is.EqualTo(inactive.Count - active.Count - stolenHere));
        Assert.That(rig.Event(VmEvent.Allocstall), Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// shrink_page_list (v3.16; 6.1's shrink_folio_list shares the code) frees its batch after the loop, newest first:
    /// each reclaimed page went onto <c>free_pages</c> with list_add and free_hot_cold_page_list walks it from the head.
    /// Three clean page-cache pages with allocated buddies, reclaimed tail first, reach the order-0 free list so that
    /// the first one reclaimed, freed last, is at its head.
    /// </summary>
    [Test]
    public void ShrinkPageList_FreesTheBatchAfterTheLoop_NewestFirst()
    {
        var rig = new PressureRig(design: "fixed");
        rig.Sim.WorkloadFile(4);
        var inactive = rig.LruList(Zone.LruInactiveFile).ToHashSet();
        int first = inactive.Where(p => p % 2 == 0 && inactive.Contains(p + 1) && inactive.Contains(p + 3) && inactive.Contains(p + 5)
            && inactive.Contains(p + 2) && inactive.Contains(p + 4)).Min();
        int[] reclaimOrder = [first, first + 2, first + 4]; // their buddies first + 1, + 3, + 5 stay allocated
        int list = rig.Lists.NewHead();
        foreach (int p in reclaimOrder)
        {
            Assert.That(rig.Get<Lru>().IsolateLruPage(p), Is.Zero);
            rig.Lists.Add(p, list); // list_add: the first isolated ends at the tail, where shrink_page_list starts
        }

        long reclaimed = rig.Get<PageReclaim>().ShrinkPageList(list, rig.Zone, new ScanControl { GfpMask = Gfp.Kernel },
            new PageReclaim.BatchStats());

        Assert.That(reclaimed, Is.EqualTo(3));
        int freeList = rig.Zone.FreeList(0, rig.Zone.GetPageblockMigratetype(first));
        var head = new List<int>();
        for (int p = rig.Lists.Next(freeList); p != freeList && head.Count < 3; p = rig.Lists.Next(p)) head.Add(p);
        Assert.That(head, Is.EqualTo(reclaimOrder), "freed newest first, each at the head: the first reclaimed leads");
    }

    /// <summary>
    /// v3.16 reclaim frees its batch cold (free_hot_cold_page_list(&amp;free_pages, true)): each page goes to the tail of
    /// the per-cpu list, where allocations take pages last; 6.1 has no cold frees (free_unref_page_list: the head).
    /// </summary>
    [TestCase("fixed", true)]
    [TestCase("v6.1", false)]
    public void ShrinkPageList_v3_16_FreesCold_ToThePerCpuListsTail(string design, bool cold)
    {
        var rig = new SimRig(TestOptions.Classic(64, 1, 1, design) with { Reclaim = true, PerCpuLists = true });
        rig.Sim.WorkloadFile(4);
        var lru = rig.Get<Lru>();
        int[] reclaimOrder = Enumerable.Range(0, rig.Pages.Count.Length)
            .Where(p => rig.Pages.PageLru(p) && lru.PageIsFileCache(p) && !rig.Pages.Test(p, PG.Active)
                && rig.Node.ZoneOf(p) == rig.Node.LargestZone).Take(2).ToArray(); // DMA's per-cpu list is too small to hold them
        int list = rig.Lists.NewHead();
        foreach (int p in reclaimOrder)
        {
            Assert.That(lru.IsolateLruPage(p), Is.Zero);
            rig.Lists.Add(p, list);
        }
        var zone = rig.Node.ZoneOf(reclaimOrder[0]);
        long reclaimed = 0;
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", () => reclaimed = cold
            ? rig.Get<PageReclaim>().ShrinkPageList(list, zone, new ScanControl { GfpMask = Gfp.Kernel }, new PageReclaim.BatchStats())
            : rig.Get<Engine.Reclaim.V6_1.FolioReclaim>().ShrinkPageList(list, zone: null,
                new Engine.Reclaim.V6_1.ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 }, new Engine.Reclaim.PageListReclaim.BatchStats()))], null);

        Assert.That(reclaimed, Is.EqualTo(2));
        var pcpList = new List<int>();
        int head = cold ? rig.Get<Engine.PageAlloc.V3_16.PerCpuPagesets>().Pcp(zone, 0).Lists[MigrateType.Movable]
            : rig.Get<Engine.PageAlloc.V6_1.PerCpuPagesets>().Lists(zone, 0)[Engine.PageAlloc.V6_1.MigrateType.Movable].Head;
        for (int p = rig.Lists.Next(head); p != head; p = rig.Lists.Next(p)) pcpList.Add(p);
        // Freed newest first: the second page reclaimed, then the first.
        if (cold) Assert.That(pcpList.TakeLast(2), Is.EqualTo(new[] { reclaimOrder[1], reclaimOrder[0] }), "at the tail, in free order");
        else Assert.That(pcpList.Take(2), Is.EqualTo(new[] { reclaimOrder[0], reclaimOrder[1] }), "at the head, the last freed first");
    }

    /// <summary>
    /// A direct reclaimer waiting in too_many_isolated for pages another path isolated (here by hand: that path never
    /// runs again, as under a schedule that starves it) gives up after the simulation's 100 congestion waits having
    /// reclaimed nothing. Reported as SWAP_CLUSTER_MAX reclaimed, as after a fatal signal, the give-up made a reclaim
    /// for order 9 with too few free pages to compact go round shrink_zone for ever (should_continue_reclaim).
    /// </summary>
    [Test]
    public void ShrinkInactiveList_v3_16_GivingUpOnTooManyIsolatedReclaimsNothing_AHighOrderReclaimEnds()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadFile(rig.Get<Workload.Workload>().AllocatablePages() / 256.0); // down to the watermarks
        foreach (var zone in rig.Node.Zones) zone.Stat.Add((int)ZoneStat.NrIsolatedFile, zone.Stat[(int)ZoneStat.NrInactiveFile] + 1);

        var reclaim = Task.Run(() => rig.DirectReclaim(order: 9));

        Assert.That(reclaim.Wait(TimeSpan.FromSeconds(60)), Is.True, "try_to_free_pages(order 9) returns");
        Assert.That(reclaim.Result, Is.EqualTo(1), "nothing reclaimed; 1 because the zones are still reclaimable (do_try_to_free_pages: do not OOM)");
        Assert.That(rig.EventAllZones(VmEvent.PgscanDirectDma) + rig.EventAllZones(VmEvent.PgstealDirectDma), Is.Zero, "nothing was isolated");
    }

    /// <summary>
    /// shrink_inactive_list (v3.16): a reclaimer with a fatal signal pending after a congestion_wait in its
    /// too_many_isolated loop returns SWAP_CLUSTER_MAX ("We are about to die and free our memory"), scanning nothing:
    /// one wait, where without the signal it waits the simulation's 100 (10 s) and reclaims nothing.
    /// </summary>
    [Test]
    public void ShrinkInactiveList_v3_16_FatalSignalAfterACongestionWait_ReturnsSwapClusterMax()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadFile(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        foreach (var zone in rig.Node.Zones) zone.Stat.Add((int)ZoneStat.NrIsolatedFile, zone.Stat[(int)ZoneStat.NrInactiveFile] + 1);
        double before = rig.Sim.ClockMs;

        rig.Get<Engine.Sched.FatalSignal>().Raised = true;
        long progress = rig.DirectReclaim();
        rig.Get<Engine.Sched.FatalSignal>().Raised = false;

        Assert.That((progress, rig.Sim.ClockMs - before), Is.EqualTo((ScanControl.SwapClusterMax, 100.0)),
            "one congestion_wait (HZ/10), then SWAP_CLUSTER_MAX: nr_to_reclaim met");
        Assert.That(rig.EventAllZones(VmEvent.PgscanDirectDma), Is.Zero, "nothing was isolated");
    }

    /// <summary>
    /// putback_inactive_pages (v3.16): a page shrink_page_list activated (activate_locked), whose last reference was the
    /// isolation one (its process exited meanwhile), goes back on the active list and off it again at once:
    /// del_page_from_lru_list with the list it was added to, worked out before PG_active is cleared, so neither
    /// LRU counter moves; the page is left to be freed.
    /// </summary>
    [Test]
    public void PutbackInactivePages_v3_16_AnActivatedPageWhoseLastReferenceWasTheIsolationOne_LeavesTheCounters()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadAnon(4);
        var zone = rig.Zone;
        int page = rig.LruList(Zone.LruActiveAnon)[^1]; // v3.16 faults anon pages in active
        Assert.That(rig.Get<Lru>().IsolateLruPage(page), Is.Zero);
        int list = rig.Lists.NewHead();
        rig.Lists.Add(page, list);
        Assert.That(rig.Pages.Test(page, PG.Active), "precondition: PG_active, as activate_locked leaves a page");
        rig.Pages.Count[page]--;        // the mapping's reference gone: the isolation one is the last
        long active = zone.Stat[(int)ZoneStat.NrActiveAnon], inactive = zone.Stat[(int)ZoneStat.NrInactiveAnon];

        zone.LruLock.Lock();
        rig.Get<LruShrinker>().PutbackInactivePages(zone, list);
        zone.LruLock.Unlock();

        Assert.That((zone.Stat[(int)ZoneStat.NrActiveAnon], zone.Stat[(int)ZoneStat.NrInactiveAnon]), Is.EqualTo((active, inactive)));
        Assert.That(rig.Lists.Next(list), Is.EqualTo(page), "left on the list, to be freed");
        Assert.That((rig.Pages.Count[page], rig.Pages.PageLru(page), rig.Pages.Test(page, PG.Active)), Is.EqualTo((0, false, false)));
    }

    [Test]
    public void GetScanCount_v3_16_FileBeforeAnonAtDefaultSwappiness()
    {
        var rig = new PressureRig(swapMib: 32);
        rig.Sim.WorkloadAnon(16);
        rig.Sim.WorkloadFile(16);
        long anon = rig.Stat(ZoneStat.NrAnonPages);

        rig.DirectReclaim();

        Assert.That(rig.EventAllZones(VmEvent.PgstealDirectDma), Is.GreaterThanOrEqualTo(ScanControl.SwapClusterMax));
        Assert.That(rig.Event(VmEvent.Pswpout), Is.Zero, "SCAN_FILE: anon is not scanned while inactive file >= active file");
        Assert.That(rig.Stat(ZoneStat.NrAnonPages), Is.EqualTo(anon));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void ShrinkPageList_v3_16_ReferencedAnonPageIsActivated_UnreferencedOneSwappedOut()
    {
        var rig = new PressureRig(swapMib: 8);
        rig.Sim.WorkloadAnon(1);
        var lru = rig.Get<Lru>();
        var rmap = rig.Get<Rmap>();
        var anon = rig.LruList(Zone.LruActiveAnon);
        int referenced = anon[0], unreferenced = anon[1];
        foreach (int p in anon) rmap.PageReferenced(p); // age every pte (the fault left them young)
        rmap.MarkYoung(referenced);                      // then the process touches one again
        int list = rig.Lists.NewHead();
        foreach (int p in new[] { unreferenced, referenced })
        {
            Assert.That(lru.IsolateLruPage(p), Is.Zero);
            rig.Pages.Clear(p, PG.Active);
            rig.Lists.Add(p, list);
        }

        var sc = new ScanControl { GfpMask = Gfp.Kernel };
        long reclaimed = rig.Get<PageReclaim>().ShrinkPageList(list, rig.Zone, sc, new PageReclaim.BatchStats());

        Assert.That(reclaimed, Is.EqualTo(1));
        Assert.That(rig.Event(VmEvent.Pgactivate), Is.EqualTo(1));
        Assert.That(rig.Pages.Test(referenced, PG.Active) && rig.Pages.PageMapped(referenced), "page_check_references: PAGEREF_ACTIVATE");
        Assert.That(rig.Pages.Test(referenced, PG.SwapCache), Is.False);
        Assert.That(rig.Lists.Next(list), Is.EqualTo(referenced), "kept for putback");
        Assert.That(rig.Event(VmEvent.Pswpout), Is.EqualTo(1), "add_to_swap, try_to_unmap, swap_writepage");
        var owner = rig.Processes.All.Single();
        Assert.That(Enumerable.Range(0, owner.PteCount).Select(owner.Pte).Count(Workload.Process.IsSwapEntry), Is.EqualTo(1));
        Assert.That(rig.Get<SwapArea>().InUse, Is.EqualTo(1), "the slot holds the data");
        lru.PutbackLruPage(referenced);
        rig.Lists.FreeHead(list);
    }

    /// <summary>
    /// The end of writeback of a PG_reclaim page that reclaim activated meanwhile: v3.16's rotate_reclaimable_page leaves
    /// an active page where it is; 6.1's folio_rotate_reclaimable (6.1.78 mm/swap.c, lru_move_tail_fn) clears PG_active
    /// and puts it at the inactive tail, next for reclaim, counting pgrotated.
    /// </summary>
    [TestCase("fixed", false)]
    [TestCase("v6.1", true)]
    public void EndOfWriteback_OfAnActivePage_RotatesItToTheInactiveTailIn6_1Only(string design, bool rotated)
    {
        var rig = new PressureRig(design: design);
        rig.Sim.WorkloadFile(1, dirty: 1.0);
        int page = rig.LruList(Zone.LruInactiveFile)[0];
        rig.Access([page], times: 2); // activated, as reclaim activates a page it leaves for I/O
        Assert.That(rig.Pages.Test(page, PG.Active), "precondition: active");
        long activeBefore = rig.Stat(ZoneStat.NrActiveFile);

        rig.Pages.Clear(page, PG.Dirty); // clear_page_dirty_for_io, as pageout does
        rig.Node.ZoneOf(page).Stat.Add((int)ZoneStat.NrDirty, -1);
        rig.Pages.Set(page, PG.Reclaim);
        rig.Get<Writeback>().StartWriteback(page); // no device latency: end_page_writeback at once

        Assert.That(rig.Pages.Test(page, PG.Active), Is.EqualTo(!rotated));
        Assert.That(rig.Event(VmEvent.Pgrotated), Is.EqualTo(rotated ? 1 : 0));
        Assert.That(rig.Stat(ZoneStat.NrActiveFile), Is.EqualTo(activeBefore - (rotated ? 1 : 0)));
        Assert.That(rig.LruList(rotated ? Zone.LruInactiveFile : Zone.LruActiveFile).Contains(page));
        if (rotated) Assert.That(rig.LruList(Zone.LruInactiveFile)[^1], Is.EqualTo(page), "at the tail");
        rig.Sim.CheckInvariants();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A file read marks each page it copies accessed once (v3.16 do_generic_file_read's mark_page_accessed; 6.1
    /// filemap_read's folio_mark_accessed): a new page-cache page starts inactive and PG_referenced, and its first
    /// later access activates it (pgactivate), not a second one.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void WorkloadFile_TheReadReferencesEachPage_TheFirstTouchActivatesIt(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        rig.Sim.WorkloadFile(1);
        var read = Enumerable.Range(0, rig.Pages.NrPages).Where(p => rig.Pages.Kind[p] == (byte)PageKind.File).ToList();
        Assert.That(read, Has.Count.EqualTo(256));
        Assert.That(read, Is.All.Matches<int>(p => rig.Pages.Test(p, PG.Referenced) && !rig.Pages.Test(p, PG.Active)));

        Assert.That(rig.Sim.WorkloadTouch(1.0, "file", "interleave", 1), Is.EqualTo(256));
        Assert.That(read, Is.All.Matches<int>(p => rig.Pages.Test(p, PG.Active)));
        Assert.That(rig.Event(VmEvent.Pgactivate), Is.EqualTo(256));
    }

    /// <summary>
    /// mark_page_accessed (v3.16 mm/swap.c) on a referenced page off the LRU: __lru_cache_activate_page sets PG_active
    /// only if the page sits in this CPU's lru_add_pvec (it lands on the active list when drained); a page isolated
    /// from the LRU (by reclaim or migration) is left inactive. PG_referenced is cleared either way.
    /// </summary>
    [Test]
    public void MarkPageAccessed_v3_16_ActivatesAPageOffTheLruOnlyInThisCpusPagevec()
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, "fixed") with { Pagevecs = true });
        var lru = rig.Get<Lru>();
        rig.Sim.WorkloadFile(1);
        var parked = rig.Get<Pagevecs>().LruAdd(0);
        Assert.That(parked, Is.Not.Empty, "precondition: pages wait in the pagevec");
        int inPagevec = parked[^1];
        Assert.That(rig.Pages.Test(inPagevec, PG.Referenced), "precondition: the read referenced it");
        rig.RunOnCpu0(() =>
        {
            lru.MarkPageAccessed(inPagevec);
            return 0;
        });
        Assert.That(rig.Pages.Test(inPagevec, PG.Active), "in this CPU's pagevec: PG_active");

        var zone = rig.Node.ZoneOf(inPagevec);
        int list = rig.IsolateLruPages(zone, 1);
        int isolated = rig.Lists.Next(list);
        Assert.That(rig.Pages.PageLru(isolated), Is.False, "precondition: isolated");
        Assert.That(rig.Get<Pagevecs>().LruAdd(0), Does.Not.Contain(isolated));
        Assert.That(rig.Pages.Test(isolated, PG.Referenced), "precondition: the read referenced it");
        rig.RunOnCpu0(() =>
        {
            lru.MarkPageAccessed(isolated);
            return 0;
        });
        Assert.That(rig.Pages.Test(isolated, PG.Active), Is.False, "isolated: left inactive");
        Assert.That(rig.Pages.Test(isolated, PG.Referenced), Is.False, "ClearPageReferenced all the same");
    }
}
