using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// Swap-in readahead (v3.16 mm/swap_state.c swapin_readahead / swapin_nr_pages / read_swap_cache_async; 6.1.78
/// swap_cluster_readahead) and the block I/O counters a swap-in and a write-out count (submit_bio: pgpgin, pgpgout).
/// The unit tests craft the slots: in use by a page table and out of the swap cache, as a swapped-out page's slot is
/// once reclaim has freed its page.
/// </summary>
public class SwapReadaheadTests
{
    private static readonly string[] Versions = ["fixed", "v6.1"]; // v3.16 reclaim and swap; 6.1's

    /// <summary>
    /// swapin_nr_pages from boot: swapin_readahead_hits starts at 4 (ATOMIC_INIT(4)), so the first fault reads a whole
    /// window (4 + 2 rounded up to 8); faults after it with no readahead hit, at slots not next to the last, read at least
    /// half the last window: 4, 2, then 1 page.
    /// </summary>
    [Test]
    public void FirstFaultsAfterBoot_ReadAWholeWindowThenHalfTheLast([ValueSource(nameof(Versions))] string design)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 1, design: design);
        UseSlots(rig, 16, 39);

        var reads = new[] { 20, 33, 38, 28 }.Select(slot => Fault(rig, slot)).ToArray();

        Assert.That(reads, Is.EqualTo(new[] { 8, 4, 2, 1 }), "pages read by the faults at slots 20, 33, 38, 28");
        Assert.That(rig.Event(VmEvent.Pswpin), Is.EqualTo(15));
    }

    /// <summary>
    /// A major fault waits for its page's read, io_latency_ms (lock_page_or_retry, folio_lock_or_retry), while the clock
    /// runs on; a minor fault (a page read ahead, a readahead hit) does not wait. A process pushed out to swap and faulted
    /// back in therefore spends at least its major faults times the latency; with io_latency_ms 0 it spends next to nothing.
    /// A fault that waited is retried (VM_FAULT_RETRY, FAULT_FLAG_TRIED): v3.16's handle_mm_fault counts PGFAULT again for
    /// the retry, 6.1's mm_account_fault counts only the completed attempt; the task counts each fault once either way,
    /// major if it read its page (v3.16 from its first attempt, 6.1 from FAULT_FLAG_TRIED or VM_FAULT_MAJOR).
    /// </summary>
    [TestCase("fixed", 3.0)]
    [TestCase("fixed", 0.0)]
    [TestCase("v6.1", 3.0)]
    [TestCase("v6.1", 0.0)]
    public void MajorFaults_WaitIoLatencyMsForTheirRead(string design, double ioLatencyMs)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 64, design: design, ioLatencyMs: ioLatencyMs);
        rig.Sim.WorkloadAnon(24);
        rig.Sim.WorkloadAnon(40); // pushes much of the first out to swap
        rig.Sim.WorkloadFree(1.0, "interleave", 0); // everything resident goes: the swap-ins find free memory
        var clock = rig.Get<Engine.Time.SimClock>();
        long swapped = rig.Processes.All.Sum(p => Enumerable.Range(0, p.PteCount).Count(i => Workload.Process.IsSwapEntry(p.Pte(i))));
        long before = clock.NowNs, majorBefore = rig.Event(VmEvent.Pgmajfault), faultsBefore = rig.Event(VmEvent.Pgfault);
        long majFlt = rig.Processes.All.Sum(p => p.MajFlt), minFlt = rig.Processes.All.Sum(p => p.MinFlt);
        Assert.That(rig.Sim.WorkloadTouch(1.0, "anon", "interleave", 0), Is.EqualTo(swapped), "every swapped-out page faulted in");
        long major = rig.Event(VmEvent.Pgmajfault) - majorBefore, faults = rig.Event(VmEvent.Pgfault) - faultsBefore;
        Assert.That(major > 0 && major < swapped, "precondition: major faults and readahead hits");
        long waited = clock.NowNs - before, latency = (long)(ioLatencyMs * 1_000_000);
        Assert.That(waited, Is.GreaterThanOrEqualTo(major * latency).And.LessThan(major * latency + 50_000_000),
            "the major faults' waits and the faults' own steps");
        Assert.That(faults, Is.EqualTo(swapped + (latency > 0 ? major : 0)), "PGFAULT: a retried fault counts again, in both versions");
        Assert.That((rig.Processes.All.Sum(p => p.MajFlt) - majFlt, rig.Processes.All.Sum(p => p.MinFlt) - minFlt),
            Is.EqualTo((major, swapped - major)), "the tasks' maj_flt and min_flt: each fault once, retried or not");
    }

    /// <summary>
    /// swapin_nr_pages once the windows have shrunk to one page (<see cref="Cooled"/>): a fault with no readahead hits
    /// before it reads one page unless it is next to the last such fault (then the aligned pair); with hits, hits + 2
    /// rounded up to a power of two from 4, at most 2^page_cluster = 8. So a sequential walk reads 1, 1, 2, then 4 and 8
    /// pages at the faults that miss, and the pages read ahead are hits.
    /// </summary>
    [Test]
    public void SequentialFaults_WindowGrowsFromOnePageToEight([ValueSource(nameof(Versions))] string design)
    {
        var rig = Cooled(new PressureRig(memoryMib: 64, swapMib: 1, design: design));
        UseSlots(rig, 16, 39);

        var reads = Enumerable.Range(16, 17).Select(slot => Fault(rig, slot)).ToArray();

        Assert.That(reads, Is.EqualTo(new[] { 1, 1, 2, 0, 4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 8 }), "pages read by the faults at slots 16..32");
        Assert.That(rig.Event(VmEvent.Pswpin), Is.EqualTo(24));
    }

    /// <summary>
    /// v3.16 marks every page the window returns besides the faulting one PG_readahead, one already in the swap cache
    /// too, and counts no readahead event; 6.1 marks only the pages it read just now and counts them in swap_ra, and the
    /// faults that find one in swap_ra_hit.
    /// </summary>
    [TestCase("fixed", true, 0, 0)]
    [TestCase("v6.1", false, 18, 11)]
    public void ReadaheadMarksAndEvents_FollowTheVersion(string design, bool pageInCacheMarked, long swapRa, long swapRaHit)
    {
        var rig = Cooled(new PressureRig(memoryMib: 64, swapMib: 1, design: design));
        UseSlots(rig, 16, 39);

        for (int slot = 16; slot <= 32; slot++) Fault(rig, slot);

        // Slot 16's page was in the swap cache when the fault at 17 read the pair [16, 17].
        Assert.That(rig.Pages.Test(rig.Get<SwapArea>().CachePage[16], PG.Readahead), Is.EqualTo(pageInCacheMarked));
        Assert.That(rig.Event(VmEvent.SwapRa), Is.EqualTo(swapRa), "pages read beyond the faulting one: 1 + 3 + 7 + 7");
        Assert.That(rig.Event(VmEvent.SwapRaHit), Is.EqualTo(swapRaHit), "faults that found one: 1 + 3 + 7");
    }

    /// <summary>
    /// read_swap_cache_async of v3.16 allocates a page before swapcache_prepare finds the slot unused, and frees it;
    /// 6.1's __read_swap_cache_async looks at the slot's swap count first and allocates nothing for it.
    /// </summary>
    [TestCase("fixed", 2)]
    [TestCase("v6.1", 1)]
    public void UnusedSlotInTheWindow_v3_16AllocatesAPageForIt_6_1DoesNot(string design, long allocatedByTheSecondFault)
    {
        var rig = Cooled(new PressureRig(memoryMib: 64, swapMib: 1, design: design));
        UseSlots(rig, 8, 24);
        Fault(rig, 23);
        long before = rig.EventAllZones(VmEvent.PgallocDma);

        int read = Fault(rig, 24); // next to 23: the pair [24, 25], and slot 25 is unused

        Assert.That(read, Is.EqualTo(1));
        Assert.That(rig.EventAllZones(VmEvent.PgallocDma) - before, Is.EqualTo(allocatedByTheSecondFault));
        Assert.That(rig.Get<SwapArea>().CachePage[25], Is.EqualTo(-1));
    }

    /// <summary>
    /// Through the workload: touching a swapped-out process back in reads more pages than it takes major faults, every
    /// page keeps its data (the checks after each operation), 6.1's swap_ra counts exactly the pages read beyond the
    /// faulting ones, and /proc/vmstat's pgpgin and pgpgout are the swap I/O in KiB (8 sectors a page, shown halved).
    /// </summary>
    [Test]
    public void TouchingSwappedPagesBackIn_ReadsAhead_AndCountsTheBlockIo([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 64, design: design);
        rig.Sim.WorkloadAnon(24);
        rig.Sim.WorkloadAnon(40);
        rig.Sim.Run(100);
        rig.Sim.WorkloadFree(1.0, "interleave", 0);
        long majorBefore = rig.Event(VmEvent.Pgmajfault), readBefore = rig.Event(VmEvent.Pswpin);

        rig.Sim.WorkloadTouch(1.0, "anon", "interleave", 0);

        long major = rig.Event(VmEvent.Pgmajfault) - majorBefore, read = rig.Event(VmEvent.Pswpin) - readBefore;
        Assert.That(major, Is.Positive);
        Assert.That(read, Is.GreaterThan(major), "readahead: more pages read than faults that missed the swap cache");
        if (design == "v6.1") Assert.That(rig.Event(VmEvent.SwapRa), Is.EqualTo(read - major));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
        var vmstat = ProcVmstat(rig);
        Assert.That(vmstat["pgpgin"], Is.EqualTo(4 * rig.Event(VmEvent.Pswpin)));
        Assert.That(vmstat["pgpgout"], Is.EqualTo(4 * rig.Event(VmEvent.Pswpout)).And.Positive);
    }

    /// <summary>A file read into the page cache is read from disk: 4 KiB of pgpgin a page; the flusher's writes count pgpgout.</summary>
    [Test]
    public void FileReadAndWriteback_CountPgpginAndPgpgout()
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 0);
        rig.Sim.WorkloadFile(2, dirty: 0.5);
        rig.Get<Writeback>().WakeupFlusherThreads(long.MaxValue);
        var vmstat = ProcVmstat(rig);
        Assert.That(vmstat["pgpgin"], Is.EqualTo(2048));
        Assert.That(vmstat["pgpgout"], Is.EqualTo(1024));
    }

    /// <summary>/proc/vmstat's lines as name → value.</summary>
    private static Dictionary<string, long> ProcVmstat(PressureRig rig) =>
        rig.Sim.ProcVmstat().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l.Split(' ')[0], l => long.Parse(l.Split(' ')[1]));

    /// <summary>
    /// The readahead state faults with no hits leave once the windows have shrunk to one page (no hits counted, no last
    /// window, no last slot), set as a snapshot would restore it: the tests of the window's growth start there.
    /// </summary>
    private static PressureRig Cooled(PressureRig rig)
    {
        rig.Get<SwapReadahead>().Restore((0, 0, 0));
        return rig;
    }

    /// <summary>Slots <paramref name="first"/>..<paramref name="last"/> in use by a page table and out of the swap cache, the rest free.</summary>
    private static void UseSlots(PressureRig rig, int first, int last)
    {
        var area = rig.Get<SwapArea>();
        for (int slot = 1; slot <= last; slot++)
        {
            Assert.That(area.GetSwapPage(), Is.EqualTo(slot)); // add_to_swap's slot: SWAP_HAS_CACHE
            area.SwapDuplicate(slot);                           // try_to_unmap's swap entry
            area.SwapcacheFree(slot);                           // reclaim freed the page
            if (slot < first) area.SwapFree(slot);
        }
    }

    /// <summary>do_swap_page's part here: the swap cache, else swapin_readahead; the reference let go. The pages read.</summary>
    private static int Fault(PressureRig rig, int slot)
    {
        var readahead = rig.Get<SwapReadahead>();
        long before = rig.Event(VmEvent.Pswpin);
        int page = readahead.LookupSwapCache(slot);
        if (page < 0) page = readahead.SwapinReadahead(slot);
        Assert.That(page, Is.Not.Negative);
        rig.Get<Lru>().PutPage(page);
        return (int)(rig.Event(VmEvent.Pswpin) - before);
    }
}
