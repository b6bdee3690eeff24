using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Time;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Host;

/// <summary>
/// The host's khugepaged (6.1.78 mm/khugepaged.c: khugepaged_do_scan, khugepaged_scan_mm_slot, hpage_collapse_scan_pmd,
/// collapse_huge_page) over QEMU's guest RAM with host THP: a wake-up at the first huge page fault, then one every
/// scan_sleep_millisecs, each scanning pages_to_scan (4,096) pages' worth, 8 regions of 2 MiB, from where the last
/// stopped; a split region with no more than max_ptes_none empty entries is collapsed into a huge page again, its holes
/// backed with zeros.
/// </summary>
public class KhugepagedTests
{
    private const int Frames = 1 << RamBlock.HpageOrder;

    private static Simulation Guest(long memoryMib = 64, bool hostThp = true, int? maxPtesNone = null, int? scanSleepMs = null,
        int? pagesToScan = null) =>
        Simulation.Create(new SimulationOptions
        {
            MemoryMib = memoryMib, Design = KernelDesign.Parse("v6.1"), Seed = 1, HostThp = hostThp,
            HostKhugepagedMaxPtesNone = maxPtesNone, HostKhugepagedScanSleepMs = scanSleepMs, HostKhugepagedPagesToScan = pagesToScan,
        });

    private static RamBlock Ram(Simulation sim) => (RamBlock)sim.Services.GetService(typeof(RamBlock))!;

    private static SimClock Clock(Simulation sim) => (SimClock)sim.Services.GetService(typeof(SimClock))!;

    private static Dictionary<string, long> Stats(Simulation sim) =>
        Simulation.HostKhugepagedStatNames().Zip(sim.HostKhugepagedStats()).ToDictionary(p => p.First, p => p.Second);

    /// <summary>The host maps each region huge (a write in it) and splits it with a discard of <paramref name="holes"/> of its frames.</summary>
    private static void SplitEveryRegion(Simulation sim, int holes = 1)
    {
        var ram = Ram(sim);
        for (int head = 0; head + Frames <= sim.NrPages; head += Frames)
        {
            ram.Write(head);
            ram.Discard(head + 1, holes);
        }
    }

    private static int[] HugeRegions(Simulation sim) =>
        [.. Enumerable.Range(0, sim.NrPages / Frames).Where(r => Ram(sim).IsMappedHuge(r * Frames))];

    [Test]
    public void EachWakeUp_CollapsesTheNext8SplitRegions_BackingTheirHolesWithZeros_AndStartsOverAfterAFullScan()
    {
        var sim = Guest(); // 32 regions; the first write's huge fault wakes khugepaged, which scans regions 0-7 before any split
        SplitEveryRegion(sim);
        var ram = Ram(sim);
        long resident = sim.HostResidentPages;
        Assert.That((sim.HostThpSplits, sim.HostHugePages, resident), Is.EqualTo((32L, 0L, 32L * (Frames - 1))));
        Assert.That(sim.HostDeferredSplitPages, Is.EqualTo(32), "each hole still held by its split huge page");

        sim.Run(9_999);
        Assert.That(Stats(sim)["pages_collapsed"], Is.Zero, "asleep for scan_sleep_millisecs (10,000) after the first scan");

        sim.Run(1);
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(8, 8).ToArray()), "8 regions a wake-up (pages_to_scan 4,096), on from where the first stopped");
        Assert.That(Stats(sim)["pages_collapsed"], Is.EqualTo(8));
        Assert.That(sim.HostResidentPages, Is.EqualTo(resident + 8), "each collapse backs its region's hole");
        Assert.That(sim.HostDeferredSplitPages, Is.EqualTo(24), "and frees the old huge page, with the hole it held");
        Assert.That((ram.IsBacked(8 * Frames + 1), ram.HoldsData(8 * Frames + 1), ram.HoldsData(8 * Frames)), Is.EqualTo((true, false, true)),
            "the hole is a zeroed frame of the new huge page; the frame the guest wrote is copied");
        Assert.That(ram.IsBacked(16 * Frames + 1), Is.False, "region 16 waits for the next wake-up");

        sim.Run(20_000);
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(8, 24).ToArray()));
        Assert.That(Stats(sim)["full_scans"], Is.Zero, "the cursor stands at the end of the RAM's last region, the pass not yet ended");

        sim.Run(10_000);
        Assert.That(Stats(sim)["full_scans"], Is.EqualTo(1), "the next wake-up ends the pass");
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(0, 32).ToArray()), "and starts over in the same wake-up: regions 0-7");
        Assert.That((sim.HostHugePages, sim.HostResidentPages, sim.HostThpSplits), Is.EqualTo((32L, 32L * Frames, 32L)));
        Assert.That(sim.ReportCounts().Sum(), Is.Zero);
    }

    [TestCase(0, 0, true)]
    [TestCase(0, 1, false)]
    [TestCase(5, 5, true)]
    [TestCase(5, 6, false)]
    [TestCase(511, 511, true)]
    public void MaxPtesNone_IsTheMostEmptyEntriesARegionMayHaveToBeCollapsed(int maxPtesNone, int holes, bool collapsed)
    {
        var sim = Guest(maxPtesNone: maxPtesNone);
        var ram = Ram(sim);
        int head = 8 * Frames;
        ram.Write(head, Frames); // region 8 mapped huge, every frame written
        ram.Discard(head + 1, Math.Max(holes, 1)); // split, with that many empty entries
        if (holes == 0) ram.Write(head + 1); // the guest writes the one discarded frame again
        sim.Run(10_000);
        Assert.That(ram.IsMappedHuge(8 * Frames), Is.EqualTo(collapsed));
        Assert.That((Stats(sim)["pages_collapsed"], Stats(sim)["thp_scan_exceed_none_pte"]), Is.EqualTo(collapsed ? (1L, 0L) : (0L, 1L)));
        Assert.That(sim.HostResidentPages, Is.EqualTo(collapsed ? Frames : Frames - holes));
    }

    [Test]
    public void ARegionWithNothingMapped_IsNotCollapsed_NorCountedAsOverTheLimit()
    {
        var sim = Guest();
        var ram = Ram(sim);
        ram.Write(8 * Frames);
        ram.Discard(8 * Frames + 1, Frames - 1); // split, then every other frame discarded
        ram.Discard(8 * Frames); // now none mapped: 512 empty entries, one past the default 511
        ram.Write(9 * Frames, Frames);
        ram.Discard(9 * Frames, Frames); // a whole-region discard frees the huge page: nothing mapped (SCAN_PMD_NONE)
        sim.Run(10_000);
        Assert.That(HugeRegions(sim), Is.Empty);
        Assert.That((Stats(sim)["pages_collapsed"], Stats(sim)["thp_scan_exceed_none_pte"]), Is.EqualTo((0L, 1L)));
        Assert.That(sim.HostResidentPages, Is.Zero);
    }

    [Test]
    public void ScanSleepMs_IsTheTimeBetweenTwoWakeUps()
    {
        var sim = Guest(scanSleepMs: 1_000);
        SplitEveryRegion(sim);
        sim.Run(2_000);
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(8, 16).ToArray()), "two wake-ups in two seconds");
        Assert.That(Stats(sim)["scan_sleep_millisecs"], Is.EqualTo(1_000));
    }

    /// <summary>
    /// pages_to_scan is the wake-up's budget: one each time the scan enters QEMU's mm, 512 a region, and the scan stops
    /// once it is spent. A collapse drops mmap_lock, so the next region costs another entry: the scan at the first huge
    /// fault (nothing split yet) covers 2 regions with 1,025 and 3 with 1,026, the next wake-up (collapsing each) 2 with
    /// 1,026 and 3 with 1,027.
    /// </summary>
    [TestCase(513, 1, 1)]
    [TestCase(1_025, 2, 2)]
    [TestCase(1_026, 3, 2)]
    [TestCase(1_027, 3, 3)]
    public void PagesToScan_IsTheBudgetOfAWakeUp_ACollapseCostingAnotherEntryIntoTheMm(int pagesToScan, int firstScan, int collapsed)
    {
        var sim = Guest(pagesToScan: pagesToScan); // the scan at the first huge fault covers the first regions, before the splits
        SplitEveryRegion(sim);
        sim.Run(10_000);
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(firstScan, collapsed).ToArray()), "the next wake-up's regions, on from the first's");
        Assert.That(Stats(sim)["pages_to_scan"], Is.EqualTo(pagesToScan));
    }

    /// <summary>
    /// QEMU's MADV_HUGEPAGE comes before guest RAM has an anon_vma, so hugepage_vma_check refuses it; the first huge page
    /// fault (do_huge_pmd_anonymous_page's khugepaged_enter_vma) registers the mm and wakes the thread: a scan, then its
    /// sleep. Without host THP there is no thread.
    /// </summary>
    [Test]
    public void TheFirstHugeFaultRegistersQemusMm_WithoutHostThpNoKhugepagedRuns()
    {
        var with = Guest();
        var without = Guest(hostThp: false);
        Assert.That(Clock(with).PendingTimers, Is.EqualTo(Clock(without).PendingTimers), "nothing registered before a huge fault");
        with.Run(60_000);
        Assert.That(Stats(with)["full_scans"], Is.Zero, "no wake-up while nothing is registered");
        Ram(with).Write(20 * Frames);
        Assert.That(Clock(with).PendingTimers - Clock(without).PendingTimers, Is.EqualTo(1), "the first huge fault: a scan, then khugepaged's sleep");
        Ram(with).Write(0);
        Ram(with).Discard(1);
        with.Run(9_999);
        Assert.That(Stats(with)["pages_collapsed"], Is.Zero, "the scan at the fault covered regions 0-7, before region 0 was split");
        with.Run(300_000);
        Assert.That(Ram(with).IsMappedHuge(0), Is.True, "the pass came round to region 0 again");
        without.WorkloadAnon(32);
        without.Run(60_000);
        Assert.That(Stats(without).Where(p => p.Key is "pages_collapsed" or "full_scans" or "thp_scan_exceed_none_pte").Sum(p => p.Value), Is.Zero);
    }

    [Test]
    public void AfterAMigration_TheDestinationsKhugepagedStartsAfresh()
    {
        var sim = Guest();
        SplitEveryRegion(sim);
        sim.Run(10_000);
        Assert.That(Stats(sim)["pages_collapsed"], Is.EqualTo(8));
        sim.HostMigrate(1024, 300, wait: true);
        Assert.That(sim.HostMigrationStats()[0], Is.EqualTo((long)LiveMigration.Status.Completed));
        Assert.That((Stats(sim)["pages_collapsed"], Stats(sim)["full_scans"]), Is.EqualTo((0L, 0L)), "another host's counts");
        SplitEveryRegion(sim); // on the destination, whose RAM the migration mapped huge
        sim.Run(9_999);
        Assert.That(Stats(sim)["pages_collapsed"], Is.Zero,
            "the destination's khugepaged scanned regions 0-7 at the switch-over, before the splits, and sleeps; the source's wakes no more");
        sim.Run(1);
        Assert.That(HugeRegions(sim), Is.EqualTo(Enumerable.Range(8, 8).ToArray()));
    }

    [Test]
    public void SnapshotRestore_PutsTheScanCursorBack()
    {
        var sim = Guest();
        SplitEveryRegion(sim);
        sim.Run(10_000);
        var snapshot = sim.Snapshot();
        sim.Run(20_000);
        var (huge, stats) = (HugeRegions(sim), Stats(sim));
        sim.Restore(snapshot);
        Assert.That(Stats(sim)["pages_collapsed"], Is.EqualTo(8));
        sim.Run(20_000);
        Assert.That((HugeRegions(sim), Stats(sim)), Is.EqualTo((huge, stats)));
    }

    [TestCase(true, -1, null)]
    [TestCase(true, 512, null)]
    [TestCase(true, null, 0)]
    [TestCase(true, null, 3_600_001)]
    [TestCase(false, 0, null)]
    [TestCase(false, null, 1_000)]
    [TestCase(true, null, null, 0)]
    [TestCase(false, null, null, 4_096)]
    public void BadSettings_AreRefused_NamingTheOption(bool hostThp, int? maxPtesNone, int? scanSleepMs, int? pagesToScan = null)
    {
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(),
            () => Guest(hostThp: hostThp, maxPtesNone: maxPtesNone, scanSleepMs: scanSleepMs, pagesToScan: pagesToScan))!;
        Assert.That(e.Message, Does.Contain(pagesToScan is not null ? "host_khugepaged_pages_to_scan"
            : maxPtesNone is null ? "host_khugepaged_scan_sleep_ms" : "host_khugepaged_max_ptes_none"));
        if (!hostThp) Assert.That(e.Message, Does.Contain("host_thp=True"));
    }
}
