using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Host;

/// <summary>
/// QEMU in a memory cgroup whose memory.max is <see cref="SimulationOptions.HostMemoryMaxMib"/> (6.1's try_charge_memcg,
/// try_to_free_mem_cgroup_pages, shrink_slab_memcg and the deferred-split shrinker): the host pages behind guest RAM are
/// charged; a charge past the limit counts a MEMCG_MAX event and reclaims, which without host swap splits every huge page
/// on the deferred-split queue; a khugepaged collapse whose new huge page does not fit fails (SCAN_CGROUP_CHARGE_FAIL).
/// </summary>
public class MemcgTests
{
    private const int Frames = 1 << RamBlock.HpageOrder;
    private const int GuestPages = 64 * 256;

    private static Simulation Guest(long? memoryMaxMib, bool hostThp = true, int? scanSleepMs = 1_000) =>
        Simulation.Create(new SimulationOptions
        {
            MemoryMib = 64, Design = KernelDesign.Parse("v6.1"), Seed = 1, HostThp = hostThp, HostMemoryMaxMib = memoryMaxMib,
            HostKhugepagedScanSleepMs = hostThp ? scanSleepMs : null,
        });

    private static RamBlock Ram(Simulation sim) => (RamBlock)sim.Services.GetService(typeof(RamBlock))!;

    private static Dictionary<string, long> Memcg(Simulation sim) =>
        Simulation.HostMemcgStatNames().Zip(sim.HostMemcgStats()).ToDictionary(p => p.First, p => p.Second);

    private static long Khugepaged(Simulation sim, string name) =>
        Simulation.HostKhugepagedStatNames().Zip(sim.HostKhugepagedStats()).Single(p => p.First == name).Second;

    /// <summary>Every region mapped huge by a write in it: all of guest RAM resident.</summary>
    private static void MapEveryRegionHuge(Simulation sim)
    {
        for (int head = 0; head < GuestPages; head += Frames) Ram(sim).Write(head);
    }

    [Test]
    public void AChargePastMemoryMax_CountsAMaxEvent_AndItsReclaimSplitsEveryQueuedHugePage([Values(false, true)] bool limited)
    {
        var sim = Guest(limited ? 65 : null); // 256 pages above the guest's RAM
        var ram = Ram(sim);
        MapEveryRegionHuge(sim);
        ram.Discard(1, 300); // region 0's huge page split: 300 frames unmapped, held
        ram.Discard(Frames + 1); // region 1's: one frame held
        Assert.That((ram.ResidentPages, ram.DeferredSplitPages, ram.MemoryCurrent), Is.EqualTo((GuestPages - 301L, 301L, (long)GuestPages)));

        ram.Write(1, 255); // written again: a 4 KiB page each, beside the frame the huge page holds
        Assert.That((ram.MemoryCurrent, ram.MemcgMaxEvents, ram.DeferredSplitPages), Is.EqualTo((GuestPages + 255L, 0L, 301L)),
            "one page below memory.max: no reclaim yet");
        ram.Write(256);
        Assert.That((ram.MemoryCurrent, ram.MemcgMaxEvents, ram.DeferredSplitPages), Is.EqualTo((GuestPages + 256L, 0L, 301L)),
            "exactly at memory.max: the charge fits (page_counter_try_charge refuses only past the limit)");
        ram.Write(257);
        if (!limited)
        {
            Assert.That((ram.MemoryCurrent, ram.MemcgMaxEvents, ram.DeferredSplitPages), Is.EqualTo((GuestPages + 257L, 0L, 301L)),
                "no limit: the split huge pages keep what they hold");
            return;
        }
        Assert.That(ram.MemcgMaxEvents, Is.EqualTo(1), "one MEMCG_MAX event: the reclaim made room at once");
        Assert.That(ram.DeferredSplitPages, Is.Zero, "the reclaim split both queued huge pages, freeing the 301 frames they held");
        Assert.That((ram.ResidentPages, ram.MemoryCurrent), Is.EqualTo((GuestPages - 301L + 257, GuestPages - 301L + 257)));
        Assert.That(ram.RecountDeferredSplitPages(), Is.Zero);
        Assert.That(Memcg(sim), Is.EqualTo(new Dictionary<string, long>
        {
            ["memory_current"] = ram.MemoryCurrent, ["memory_max"] = 65 * 256, ["memory_events_max"] = 1,
        }));
        Assert.That(sim.ReportCounts().Sum(), Is.Zero);
    }

    /// <summary>
    /// collapse_huge_page's alloc_charge_hpage charges the new huge page while the region's 512 old pages are still charged:
    /// with memory.max at the guest's RAM and every frame resident it cannot fit. try_charge_memcg then counts 18 MEMCG_MAX
    /// events (the first try, the retry after drain_all_stock, MAX_RECLAIM_RETRIES (16, 6.1's mm/internal.h) more) and
    /// the collapse fails with SCAN_CGROUP_CHARGE_FAIL; collapse_huge_page dropped mmap_lock, so khugepaged_scan_mm_slot
    /// returns, and the wake-up goes on from the next region. With 2 MiB to spare it fits.
    /// </summary>
    [TestCase(64, false)]
    [TestCase(65, false)]
    [TestCase(66, true)]
    public void AKhugepagedCollapse_IsChargedBeforeTheOldPagesGo_AndFailsPastMemoryMax(int memoryMaxMib, bool fits)
    {
        var sim = Guest(memoryMaxMib);
        var ram = Ram(sim);
        MapEveryRegionHuge(sim); // khugepaged's scan at the first huge fault covered regions 0-7; the next wake-up scans 8-15
        foreach (int head in new[] { 8 * Frames, 9 * Frames })
        {
            ram.Discard(head + 1);
            ram.Write(head + 1); // the region mapped 4 KiB at a time, every frame resident
        }
        long events = ram.MemcgMaxEvents;
        Assert.That(events, Is.EqualTo(memoryMaxMib == 64 ? 2 : 0), "at 64 MiB each frame written again first had the huge page that held it split");
        Assert.That((ram.MemoryCurrent, ram.DeferredSplitPages), Is.EqualTo(memoryMaxMib == 64 ? ((long)GuestPages, 0L) : (GuestPages + 2L, 2L)));

        sim.Run(1_000); // one wake-up: regions 8-15
        Assert.That(Khugepaged(sim, "pages_collapsed"), Is.EqualTo(fits ? 2 : 0));
        Assert.That(Khugepaged(sim, "scan_cgroup_charge_fail"), Is.EqualTo(fits ? 0 : 2), "a failed collapse, then the next region's");
        Assert.That((ram.IsMappedHuge(8 * Frames), ram.IsMappedHuge(9 * Frames)), Is.EqualTo((fits, fits)));
        Assert.That(ram.MemcgMaxEvents - events, Is.EqualTo(fits ? 1 : 2 * 18),
            fits ? "region 8's charge split the two queued huge pages, which made room for both collapses"
                 : "18 MEMCG_MAX events for each failed charge");
        Assert.That((ram.MemoryCurrent, ram.DeferredSplitPages), Is.EqualTo(((long)GuestPages, 0L)),
            "a collapse frees the old pages; the first reclaim split both queued huge pages");
        Assert.That(sim.ReportCounts().Sum(), Is.Zero);
    }

    [Test]
    public void WithoutHostThp_TheMemoryInUseIsTheResidentSet_AndALimitAtTheGuestsRamNeverBinds()
    {
        var sim = Guest(64, hostThp: false);
        sim.WorkloadAnon(48);
        sim.WorkloadFree(0.5, "interleave", 0);
        sim.BalloonInflate(16);
        sim.BalloonDeflate(16);
        sim.WorkloadAnon(32);
        Assert.That(sim.HostRefaults, Is.Positive, "precondition: ballooned frames written again");
        Assert.That((sim.HostDeferredSplitPages, Memcg(sim)["memory_current"]), Is.EqualTo((0L, sim.HostResidentPages)),
            "4 KiB host pages: a discard frees what it unmaps, nothing is held");
        Assert.That(Memcg(sim)["memory_events_max"], Is.Zero);
        Assert.That(Simulation.Create(new SimulationOptions { MemoryMib = 64, Design = KernelDesign.Parse("v6.1") }).HostMemcgStats()[1],
            Is.EqualTo(-1), "no limit: memory.max reads \"max\"");
    }

    [Test]
    public void AfterAMigration_TheDestinationsCgroupCountsAfresh_UnderTheSameLimit()
    {
        var sim = Guest(64);
        var ram = Ram(sim);
        MapEveryRegionHuge(sim);
        ram.Discard(1);
        ram.Write(1);
        Assert.That(ram.MemcgMaxEvents, Is.EqualTo(1));
        sim.HostMigrate(1024, 300, wait: true);
        Assert.That(sim.HostMigrationStats()[0], Is.EqualTo((long)LiveMigration.Status.Completed));
        Assert.That(Memcg(sim), Is.EqualTo(new Dictionary<string, long>
        {
            ["memory_current"] = sim.HostResidentPages, ["memory_max"] = 64 * 256, ["memory_events_max"] = 0,
        }));
    }

    [TestCase(63L)]
    [TestCase(2 * SimulationOptions.MaxMemoryMib + 1)]
    public void AMemoryMaxBelowTheGuestsRamOrAboveTheRange_IsRefusedNamingTheOption(long memoryMaxMib)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Guest(memoryMaxMib));
        Assert.That(error!.Message, Does.Contain("host_memory_max_mib").And.Contain("64").And.Contain($"{2 * SimulationOptions.MaxMemoryMib}"));
    }

    [Test]
    public void SnapshotRestore_PutsTheEventCountBack()
    {
        var sim = Guest(64);
        var ram = Ram(sim);
        MapEveryRegionHuge(sim);
        var snapshot = sim.Snapshot();
        ram.Discard(1);
        ram.Write(1);
        Assert.That(ram.MemcgMaxEvents, Is.EqualTo(1));
        sim.Restore(snapshot);
        Assert.That((ram.MemcgMaxEvents, ram.MemoryCurrent), Is.EqualTo((0L, (long)GuestPages)));
    }
}
