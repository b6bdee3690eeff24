using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Host;

/// <summary>
/// The host memory behind the guest (QEMU's RAMBlock, 4 KiB host pages): a frame is backed from the guest's first write
/// until the host discards it (QEMU's balloon_inflate_page and virtio_balloon_handle_report: ram_block_discard_range);
/// balloon_deflate_page's MADV_WILLNEED maps nothing in, so a deflated frame faults again when the guest writes it. With
/// host THP the host maps 2 MiB at a fault (do_huge_pmd_anonymous_page), splits a huge page a discard hits in part
/// (split_huge_pmd) and frees one a discard covers whole (zap_huge_pmd).
/// </summary>
public class RamBlockTests
{
    private static Simulation Guest(string design, long memoryMib = 256, bool reporting = false, bool hostThp = false) =>
        Simulation.Create(new SimulationOptions
        {
            MemoryMib = memoryMib, Design = KernelDesign.Parse(design), Seed = 1, FreePageReporting = reporting, HostThp = hostThp,
        });

    private static RamBlock Ram(Simulation sim) => (RamBlock)sim.Services.GetService(typeof(RamBlock))!;

    private static bool[] Backed(Simulation sim)
    {
        var ram = Ram(sim);
        return [.. Enumerable.Range(0, sim.NrPages).Select(ram.IsBacked)];
    }

    private static int Count(bool[] set) => set.Count(b => b);

    private static bool[] And(bool[] a, bool[] b) => [.. a.Zip(b, (x, y) => x && y)];

    private static bool[] AndNot(bool[] a, bool[] b) => [.. a.Zip(b, (x, y) => x && !y)];

    [Test]
    public void GuestWrites_FaultEachFrameInOnce_AnAllocationForTheBalloonWritesNothing(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Guest(design);
        Assert.That((sim.HostResidentPages, sim.HostFaults), Is.EqualTo((0L, 0L)), "the model's guest boots with all its memory free: nothing written yet");

        sim.WorkloadAnon(64);
        var map = sim.PageMap();
        long written = map.Count(k => k is (byte)PageKind.Anon or (byte)PageKind.PageTable);
        Assert.That(written, Is.GreaterThan(64 * 256), "64 MiB of anonymous pages and the page tables that map them");
        Assert.That((sim.HostResidentPages, sim.HostFaults, sim.HostRefaults), Is.EqualTo((written, written, 0L)),
            "each anonymous page zeroed by its fault, each page table zeroed (__GFP_ZERO): one host fault a frame");

        sim.WorkloadTouch(1.0, "all", "interleave", 1);
        Assert.That(sim.HostFaults, Is.EqualTo(written), "frames written again are backed already");

        Assert.That(sim.Allocate(9, 2), Is.EqualTo(2));
        written += 1024;
        Assert.That(sim.HostFaults, Is.EqualTo(written), "two THP faults: clear_huge_page writes 512 frames each");

        sim.BalloonInflate(64);
        Assert.That((sim.HostResidentPages, sim.HostFaults), Is.EqualTo((written, written)),
            "the balloon's pages are never written, and frames never written have nothing for the host to discard");
    }

    [Test]
    public void BalloonInflate_DiscardsTheBackedFramesItTakes_DeflateMapsNothingIn_TheirReuseRefaults(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Guest(design);
        sim.WorkloadAnon(128);
        sim.WorkloadFree(1.0, "interleave", 1);
        var before = Backed(sim);
        long resident = sim.HostResidentPages;

        sim.BalloonInflate(128);
        var host = (BalloonHost)sim.Services.GetService(typeof(BalloonHost))!;
        bool[] ballooned = [.. Enumerable.Range(0, sim.NrPages).Select(host.IsBallooned)];
        var discarded = And(ballooned, before);
        Assert.That(Count(discarded), Is.GreaterThan(16 * 256), "the balloon took frames the freed workload had written");
        Assert.That(sim.HostResidentPages, Is.EqualTo(resident - Count(discarded)), "balloon_inflate_page discards each of them");
        Assert.That(Count(And(ballooned, Backed(sim))), Is.Zero, "no ballooned frame stays backed");

        sim.BalloonDeflate(128);
        Assert.That((sim.HostResidentPages, sim.HostRefaults), Is.EqualTo((resident - Count(discarded), 0L)),
            "balloon_deflate_page: MADV_WILLNEED maps no anonymous memory in");

        long faults = sim.HostFaults;
        sim.WorkloadAnon(128);
        var now = Backed(sim);
        Assert.That(sim.HostRefaults, Is.EqualTo(Count(And(discarded, now))).And.GreaterThan(0),
            "each discarded frame written again refaults, once");
        Assert.That(sim.HostFaults - faults, Is.EqualTo(Count(AndNot(now, before)) + Count(And(discarded, now))),
            "faults: the frames never written before, and the discarded ones");
    }

    [Test]
    public void FreePageReporting_DiscardsTheReportedBlocks_WhichRefaultWhenTheGuestWritesThemAgain()
    {
        foreach (bool reporting in new[] { false, true })
        {
            var sim = Guest("v6.1", reporting: reporting);
            sim.WorkloadAnon(160);
            sim.WorkloadFree(1.0, "interleave", 1);
            long resident = sim.HostResidentPages;
            var before = Backed(sim);
            sim.Run(10_000);
            var reported = AndNot(before, Backed(sim));
            if (!reporting)
            {
                Assert.That(sim.HostResidentPages, Is.EqualTo(resident), "without reporting, freed memory stays backed");
                sim.WorkloadAnon(160);
                Assert.That(sim.HostRefaults, Is.Zero);
                continue;
            }
            Assert.That(Count(reported), Is.GreaterThan(100 * 256), "the freed workload's 2 MiB blocks were reported and discarded");
            Assert.That(sim.HostResidentPages, Is.EqualTo(resident - Count(reported)));
            Assert.That(Count(reported), Is.LessThanOrEqualTo(sim.HostReportedPages), "only reported frames are discarded");

            sim.WorkloadAnon(160);
            Assert.That(sim.HostRefaults, Is.EqualTo(Count(And(reported, Backed(sim)))).And.GreaterThan(0),
                "the allocation took reported blocks back without telling the host: each frame written refaults");
        }
    }

    [Test]
    public void MigratePageCopy_WritesTheTarget_TheSourceStaysBacked([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, design: design));
        rig.Sim.WorkloadAnon(1);
        var ram = rig.Get<RamBlock>();
        int page = rig.Pages.Kind.IndexOf((byte)PageKind.Anon);
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        int target = -1;
        long faults = ram.Faults;
        int left = rig.RunOnCpu0(() => rig.Get<IMigration>().MigratePages(list, _ =>
        {
            target = rig.Get<IBuddyAllocator>().GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkMin);
            Assert.That(ram.IsBacked(target), Is.False, "a free frame of a fresh guest, never written");
            return target;
        }, null, MigrateMode.Sync));

        Assert.That(left, Is.Zero);
        Assert.That(rig.Pages.Content[target], Is.Not.Zero, "the data moved");
        Assert.That((ram.IsBacked(target), ram.Faults - faults), Is.EqualTo((true, 1L)), "copy_highpage wrote the target: one host fault");
        Assert.That(ram.IsBacked(page), Is.True, "the freed source gives nothing back to the host");
    }

    [Test]
    public void HostDiscardOfAFrameHoldingData_IsADataCorruptionFinding()
    {
        var rig = Rig.Create(TestOptions.Classic(64));
        rig.Sim.WorkloadAnon(1);
        int anon = rig.Pages.Kind.IndexOf((byte)PageKind.Anon);
        int table = rig.Pages.Kind.IndexOf((byte)PageKind.PageTable);
        var host = rig.Get<BalloonHost>();
        host.Receive(VirtQueue.Inflate, [anon]);
        host.ReceiveReport([table], [0]);

        var found = rig.Sim.Reports.Where(r => r.KindName == "data_corruption").Select(r => (r.Pfn, r.Message)).ToList();
        Assert.That(found.Select(f => f.Pfn), Is.EqualTo(new long[] { anon, table }));
        Assert.That(found[0].Message, Does.Contain($"an inflation discards pfn {anon}, which holds the guest's Anon data"));
        Assert.That(found[1].Message, Does.Contain($"a free page report discards pfn {table}, which holds the guest's PageTable data"));
        Assert.That(rig.Get<RamBlock>().IsBacked(anon), Is.False, "discarded all the same: the host does as it is told");
    }

    /// <summary>
    /// QEMU keeps no ledger of ballooned frames: virtio_balloon_handle_output discards every PFN the inflate queue names.
    /// So a frame the guest inflates again while the host already holds it as ballooned (after the guest wrote it, as
    /// a leaked balloon page would be) is a host_mismatch in the simulator's ledger and is discarded all the same.
    /// </summary>
    [Test]
    public void AFrameInflatedTwice_IsAHostMismatch_AndIsDiscardedAgain()
    {
        var rig = Rig.Create(TestOptions.Classic(64));
        var host = rig.Get<BalloonHost>();
        var ram = rig.Get<RamBlock>();
        const int pfn = 5000;
        ram.Write(pfn);
        host.Receive(VirtQueue.Inflate, [pfn]);
        ram.Write(pfn); // the guest wrote it again without deflating it: a refault
        Assert.That((ram.IsBacked(pfn), ram.Refaults), Is.EqualTo((true, 1L)));
        host.Receive(VirtQueue.Inflate, [pfn]);
        Assert.That(rig.Sim.Reports.Select(r => r.KindName), Is.EqualTo(new[] { "host_mismatch" }));
        Assert.That(ram.IsBacked(pfn), Is.False, "discarded again");
        Assert.That(host.IsBallooned(pfn), Is.True);
    }

    /// <summary>The 2 MiB regions (of whole 512 frames) the host maps huge now.</summary>
    private static int[] HugeRegions(Simulation sim)
    {
        var ram = Ram(sim);
        return [.. Enumerable.Range(0, sim.NrPages >> RamBlock.HpageOrder).Where(r => ram.IsMappedHuge(r << RamBlock.HpageOrder))];
    }

    [Test]
    public void HostThp_AWriteInAnUnmappedRegion_MapsAHugePage_OneFaultBacksIts512Frames(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Guest(design, memoryMib: 65, hostThp: true);
        sim.WorkloadAnon(8);
        var ram = Ram(sim);
        var huge = HugeRegions(sim);
        var backed = Backed(sim);
        Assert.That(huge, Is.Not.Empty);
        Assert.That(sim.HostHugePages, Is.EqualTo(huge.Length));
        Assert.That(huge.All(r => Enumerable.Range(r << 9, 512).All(f => backed[f])), Is.True, "a huge page backs its whole region");
        // The guest's last MiB is half a region: no huge page fits it, the host faults 4 KiB at a time there.
        int partial = sim.NrPages >> 9;
        int partialBacked = Enumerable.Range(partial << 9, sim.NrPages - (partial << 9)).Count(f => backed[f]);
        Assert.That(ram.IsMappedHuge(sim.NrPages - 1), Is.False);
        int regionsWritten = Enumerable.Range(0, partial).Count(r => Enumerable.Range(r << 9, 512).Any(f => backed[f]));
        Assert.That(regionsWritten, Is.EqualTo(huge.Length), "every whole region written is mapped huge");
        Assert.That(sim.HostFaults, Is.EqualTo(huge.Length + partialBacked), "one fault a whole region, one a frame of the half one");
        Assert.That(sim.HostResidentPages, Is.EqualTo(huge.Length * 512L + partialBacked));
        Assert.That(sim.HostThpSplits, Is.Zero);
    }

    [Test]
    public void HostThp_ABalloonPageSplitsItsHugePage_TheRegionFaults4KiBAtATimeAfter(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Guest(design, hostThp: true);
        sim.WorkloadAnon(128);
        sim.WorkloadFree(1.0, "interleave", 1);
        var before = HugeRegions(sim);
        sim.BalloonInflate(16);
        var host = (BalloonHost)sim.Services.GetService(typeof(BalloonHost))!;
        var hit = before.Where(r => Enumerable.Range(r << 9, 512).Any(host.IsBallooned)).ToArray();
        Assert.That(hit.Length, Is.GreaterThan(0), "the balloon took frames under host huge pages");
        Assert.That(sim.HostThpSplits, Is.EqualTo(hit.Length), "balloon_inflate_page discards 4 KiB: split_huge_pmd, one split a huge page hit");
        Assert.That(HugeRegions(sim), Is.EqualTo(before.Except(hit).ToArray()));
        Assert.That(sim.HostResidentPages, Is.EqualTo(before.Length * 512L - sim.HostBallooned), "only the ballooned frames are given back");
        // A region the balloon took whole lost its huge page with its last mapping; one it took in part still holds them.
        long held = hit.Select(r => Enumerable.Range(r << 9, 512).Count(host.IsBallooned)).Where(n => n < 512).Sum(n => (long)n);
        Assert.That(sim.HostDeferredSplitPages, Is.EqualTo(held),
            "unmapped, yet held by their huge pages until a deferred split the host's memory pressure would bring");

        sim.BalloonDeflate(16);
        long faults = sim.HostFaults;
        sim.WorkloadAnon(200);
        Assert.That(sim.HostRefaults, Is.EqualTo(16 * 256), "each deflated frame written again: a 4 KiB refault under the split region's page table");
        Assert.That(HugeRegions(sim).Intersect(hit), Is.Empty, "a split region stays split until the host's khugepaged reaches it (no simulated time has passed)");
        Assert.That(sim.HostFaults - faults, Is.GreaterThanOrEqualTo(16 * 256));
        Assert.That(sim.HostDeferredSplitPages, Is.EqualTo(held), "a refault maps a 4 KiB page of its own: the huge page still holds its subpage");
    }

    /// <summary>
    /// A discard of part of a huge page unmaps those frames (page_remove_rmap queues the huge page for a deferred split)
    /// but frees nothing: the huge page is freed with its last mapping, or whole by a discard of its whole region.
    /// </summary>
    [Test]
    public void HostThp_ASplitHugePageHoldsItsUnmappedFrames_UntilItsLastMappingGoes()
    {
        var sim = Guest("v6.1", hostThp: true);
        var ram = Ram(sim);
        ram.Write(0);
        ram.Discard(1, 511);
        Assert.That((sim.HostResidentPages, sim.HostDeferredSplitPages, sim.HostThpSplits), Is.EqualTo((1L, 511L, 1L)),
            "one frame still mapped: the other 511 unmapped but held");
        ram.Write(1);
        Assert.That((sim.HostResidentPages, sim.HostDeferredSplitPages), Is.EqualTo((2L, 511L)), "a 4 KiB page of its own");
        ram.Discard(0);
        Assert.That((sim.HostResidentPages, sim.HostDeferredSplitPages), Is.EqualTo((1L, 0L)), "the last subpage unmapped: the huge page freed");

        ram.Write(512, 512);
        ram.Discard(512, 512);
        Assert.That((sim.HostResidentPages, sim.HostDeferredSplitPages, sim.HostThpSplits), Is.EqualTo((1L, 0L, 1L)),
            "a discard of the whole region frees its huge page whole (zap_huge_pmd)");
        Assert.That(ram.RecountDeferredSplitPages(), Is.EqualTo(sim.HostDeferredSplitPages));
    }

    /// <summary>
    /// The host's drop_caches runs its shrinkers: deferred_split_scan splits every huge page on the deferred-split queue
    /// (split, holding unmapped frames) for good, freeing those frames; a huge page mapped whole is not on the queue.
    /// </summary>
    [Test]
    public void HostDropCaches_SplitsEveryHugePageThatHoldsUnmappedFrames_FreeingThem()
    {
        var sim = Guest("v6.1", hostThp: true);
        var ram = Ram(sim);
        ram.Write(0);
        ram.Discard(1, 10);
        ram.Write(512, 512);
        Assert.That((sim.HostDeferredSplitPages, sim.HostHugePages), Is.EqualTo((10L, 1L)));

        Assert.That(sim.HostDropCaches(), Is.EqualTo(10));
        Assert.That((sim.HostDeferredSplitPages, sim.HostHugePages, sim.HostResidentPages), Is.EqualTo((0L, 1L, 1014L)),
            "the held frames freed; the huge page mapped whole untouched; nothing mapped changed");
        ram.Discard(0);
        Assert.That((sim.HostDeferredSplitPages, sim.HostResidentPages), Is.EqualTo((0L, 1013L)),
            "after the split a frame's page is its own: its discard frees just it");
        ram.Discard(512);
        Assert.That(sim.HostDeferredSplitPages, Is.EqualTo(1), "the huge page mapped whole was left whole: a discard splits it now");
        Assert.That(ram.RecountDeferredSplitPages(), Is.EqualTo(1));
    }

    [Test]
    public void HostThp_AWriteNextToBalloonedFramesTheHostNeverBacked_MapsAHugePageOverThem(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        foreach (bool thp in new[] { false, true })
        {
            var sim = Guest(design, hostThp: thp);
            sim.BalloonInflate(1);
            Assert.That(sim.HostBalloonedResidentPages, Is.Zero, "a fresh guest's balloon: frames never written, nothing to discard");
            sim.WorkloadAnon(8);
            var host = (BalloonHost)sim.Services.GetService(typeof(BalloonHost))!;
            var backed = Backed(sim);
            long both = Enumerable.Range(0, sim.NrPages).Count(p => host.IsBallooned(p) && backed[p]);
            Assert.That(sim.HostBalloonedResidentPages, Is.EqualTo(both));
            if (!thp) Assert.That(both, Is.Zero);
            else Assert.That(both, Is.EqualTo(256), "the anonymous pages went next to the balloon's, in its 2 MiB region: one huge page backs all of it");
        }
    }

    [Test]
    public void HostThp_AReportOfA2MiBBlockFreesItsHugePageWhole_WhichTheNextWriteMapsAgain()
    {
        var sim = Guest("v6.1", memoryMib: 512, reporting: true, hostThp: true);
        sim.WorkloadAnon(300);
        long huge = sim.HostHugePages;
        sim.WorkloadFree(1.0, "interleave", 1);
        sim.Run(10_000);
        Assert.That(sim.HostThpSplits, Is.Zero, "reported blocks are 2 MiB or more, aligned: zap_huge_pmd frees each huge page whole");
        Assert.That(sim.HostHugePages, Is.LessThan(huge / 2).And.EqualTo(HugeRegions(sim).Length));
        Assert.That(sim.HostResidentPages, Is.EqualTo(sim.HostHugePages * 512), "whatever was not reported is still whole huge pages");

        long faults = sim.HostFaults, refaults = sim.HostRefaults;
        sim.WorkloadAnon(300);
        Assert.That(sim.HostThpSplits, Is.Zero);
        Assert.That(sim.HostHugePages, Is.GreaterThanOrEqualTo(huge), "the regions freed whole map huge pages again");
        Assert.That(sim.HostRefaults - refaults, Is.GreaterThan(0).And.LessThanOrEqualTo(sim.HostFaults - faults),
            "a refault maps a whole huge page: one fault for up to 512 frames");
    }

    [Test]
    public void SnapshotRestore_PutsTheHostMemoryBack([Values(false, true)] bool hostThp)
    {
        var sim = Guest("v6.1", reporting: true, hostThp: hostThp);
        sim.WorkloadAnon(100);
        var snapshot = sim.Snapshot();
        var (resident, faults, backed, huge) = (sim.HostResidentPages, sim.HostFaults, Backed(sim), HugeRegions(sim));
        sim.WorkloadFree(1.0, "interleave", 1);
        sim.Run(10_000);
        sim.WorkloadAnon(100);
        Assert.That(sim.HostRefaults, Is.GreaterThan(0));

        sim.Restore(snapshot);
        Assert.That((sim.HostResidentPages, sim.HostFaults, sim.HostRefaults), Is.EqualTo((resident, faults, 0L)));
        Assert.That(Backed(sim), Is.EqualTo(backed));
        Assert.That((HugeRegions(sim), sim.HostHugePages, sim.HostThpSplits), Is.EqualTo((huge, (long)huge.Length, 0L)));
    }
}
