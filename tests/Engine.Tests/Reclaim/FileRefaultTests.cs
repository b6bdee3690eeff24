using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// Page-cache pages read back after reclaim evicted them (mm/filemap.c's read of a missing page, FMODE_RANDOM) and the
/// workingset refault detection of each version: v3.16 mm/workingset.c (per-zone inactive_age, the age after the
/// eviction, measured against the zone's active file list) and 6.1's (the lruvec's nonresident_age, the age before,
/// measured against the workingset's lists, PG_workingset restored).
/// </summary>
public class FileRefaultTests
{
    /// <summary>
    /// Reclaim evicts the inactive file tail, each page leaving its shadow. The page evicted last is read back at once: v3.16
    /// took the age after the eviction, so its distance is 0, within even an empty active list (WORKINGSET_ACTIVATE, the
    /// page activated, the zone aged again); 6.1 took the age before, so its distance is 1, beyond a workingset of 0 pages
    /// (no active file page, no swap), and it stays inactive. The page evicted first is far off in both.
    /// </summary>
    [TestCase("fixed", 1, true)]
    [TestCase("v6.1", 0, false)]
    public void ReadBackAtOnce_v3_16_Activates_v6_1_DoesNot(string design, long activations, bool lastActive)
    {
        var rig = new PressureRig(memoryMib: 64, design: design);
        rig.Sim.WorkloadFile(1);
        var cache = rig.Get<PageCache>();
        Assert.That(Reclaim(rig), Is.Positive, "precondition: reclaim evicted file pages");
        var evicted = cache.Entries();
        Assert.That((long)evicted.Count, Is.EqualTo(cache.NrShadows).And.GreaterThan(1));
        Assert.That(rig.Stat(ZoneStat.NrActiveFile), Is.Zero, "precondition: no active file page");
        long pgpgin = rig.Event(VmEvent.Pgpgin), filePages = rig.Stat(ZoneStat.NrFilePages);
        var (last, first) = (evicted.MaxBy(e => Shadow(rig, e)), evicted.MinBy(e => Shadow(rig, e)));
        Assert.That(Read(rig, last) && Read(rig, first), "both read back");

        int lastPage = PageAt(rig, last), firstPage = PageAt(rig, first);
        Assert.That(rig.Pages.Test(lastPage, PG.Active), Is.EqualTo(lastActive));
        Assert.That(rig.Pages.Test(firstPage, PG.Active), Is.False);
        Assert.That(rig.Pages.Test(lastPage, PG.Referenced) && rig.Pages.PageLru(lastPage), "read (mark_page_accessed) onto the LRU");
        Assert.That((rig.Stat(ZoneStat.WorkingsetRefault), rig.Stat(ZoneStat.WorkingsetActivate)), Is.EqualTo((2L, activations)));
        Assert.That(rig.Event(VmEvent.Pgpgin) - pgpgin, Is.EqualTo(2 * 8), "one bio of 8 sectors each");
        Assert.That(rig.Stat(ZoneStat.NrFilePages), Is.EqualTo(filePages + 2));
        Assert.That(cache.NrShadows, Is.EqualTo(evicted.Count - 2), "the reads took their shadows");
        rig.Get<PageStateCheck>().Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A 40 MiB file read while a 24 MiB balloon leaves the 64 MiB guest about 38 MiB: each full read of the file in a
    /// new random order refaults what the last one evicted. The first reread's refaults are beyond the active list (its
    /// second accesses of the resident pages, which come first, activate them and so age the LRU past the whole active
    /// list); from the second reread on the file's pages are active and refaults within it are activated, and
    /// 6.1 restores those that had been in the workingset (deactivated by shrink_active_list, PG_workingset). Every
    /// page read back found its shadow: refaults = pages read.
    /// </summary>
    [TestCase("fixed")]
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void RereadsUnderABalloon_RefaultWhatTheLastEvicted_ActivateFromTheSecond(string design)
    {
        var rig = new PressureRig(memoryMib: 64, design: design);
        rig.Sim.WorkloadFile(40);
        rig.Sim.BalloonInflate(24);
        var cache = rig.Get<PageCache>();
        long[] refaults = new long[3], activations = new long[3];
        for (int round = 0; round < 3; round++)
        {
            long shadows = cache.NrShadows, pgpgin = rig.Event(VmEvent.Pgpgin);
            Assert.That(shadows, Is.Positive, "precondition: the last round left evicted pages");
            Assert.That(rig.Sim.WorkloadTouch(1.0, "file", "random", round), Is.EqualTo(40 * 256), "every page of the file read");
            refaults[round] = rig.Stat(ZoneStat.WorkingsetRefault);
            activations[round] = rig.Stat(ZoneStat.WorkingsetActivate);
            Assert.That(refaults[round] - (round == 0 ? 0 : refaults[round - 1]), Is.EqualTo(shadows), "each evicted page read back once");
            Assert.That((rig.Event(VmEvent.Pgpgin) - pgpgin) / 8, Is.EqualTo(shadows), "and only those read from the disk");
        }
        Assert.That(activations[0], Is.Zero, "the first reread: refaults beyond the active list");
        Assert.That(activations[2] - activations[1], Is.Positive, "later rereads activate refaults");
        Assert.That(rig.Event(VmEvent.WorkingsetRestoreFile) > 0, Is.EqualTo(design == "v6.1"), "6.1 restores workingset pages");
        string text = rig.Sim.ProcVmstat();
        Assert.That(text, Does.Contain(design == "v6.1" ? $"\nworkingset_refault_file {refaults[2]}\n" : $"\nworkingset_refault {refaults[2]}\n"));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// 6.1's prepare_scan_count deactivates file pages after refault activations of file pages since the last
    /// snapshot_refaults, as it does anon pages after anon ones, even with the inactive file list not low; the snapshot
    /// at the end of reclaim clears it. Without the refault, the same reclaim leaves the active file list alone.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void FileRefaultActivations_v6_1_DeactivateFilePagesAtTheNextReclaim(bool refault)
    {
        var rig = new PressureRig(memoryMib: 64, design: "v6.1");
        rig.Sim.WorkloadFile(1);
        // A second access activates the file's pages: the active list a file refault is measured against.
        rig.Access(Enumerable.Range(0, rig.Pages.NrPages).Where(p => rig.Pages.Kind[p] == (byte)PageKind.File), 1);
        rig.Sim.WorkloadFile(2); // read once: inactive, twice the active list, so never "low"
        var ws = rig.Get<Engine.Reclaim.V6_1.Workingset>();
        Assert.That(Reclaim(rig), Is.Positive, "precondition: reclaim evicted file pages (and took its snapshot)");
        Assert.That(ws.NewFileRefaults || ws.NewAnonRefaults, Is.False);
        if (refault)
        {
            var last = rig.Get<PageCache>().Entries().MaxBy(e => Shadow(rig, e));
            Assert.That(Read(rig, last));
            Assert.That(rig.Pages.Test(PageAt(rig, last), PG.Active), "precondition: the refault was activated");
            Assert.That((ws.NewFileRefaults, ws.NewAnonRefaults), Is.EqualTo((true, false)));
        }
        long deactivated = rig.Event(VmEvent.Pgdeactivate);
        Assert.That(rig.Stat(ZoneStat.NrInactiveFile), Is.GreaterThan(rig.Stat(ZoneStat.NrActiveFile)), "precondition: inactive file not low");
        Assert.That(Reclaim(rig), Is.Positive);
        Assert.That(rig.Event(VmEvent.Pgdeactivate) > deactivated, Is.EqualTo(refault));
        Assert.That(ws.NewFileRefaults, Is.False, "snapshot_refaults");
    }

    /// <summary>
    /// 6.1's /proc/vmstat workingset_nodes: the tree nodes (64 slots each) holding shadow entries and nothing else. A
    /// 1 MiB file (indexes 0-255, four nodes) evicted from the tail up has one such node per 64 indexes all evicted; a
    /// page read back into one makes it a node with a page again. A one-page file's entry lives in its tree's root: no
    /// node. 6.1.78's swap cache does not track its nodes (its trees have no workingset_update_node until 6.3): a
    /// swap-cache shadow alone in its node is not counted.
    /// </summary>
    [Test]
    public void WorkingsetNodes_v6_1_CountTheNodesHoldingOnlyShadows()
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 1, design: "v6.1");
        rig.Sim.WorkloadFile(1.0 / 256); // one page: its shadow will sit in the root
        rig.Sim.WorkloadFile(1);
        var cache = rig.Get<PageCache>();
        while (cache.NrShadows < 200) Assert.That(Reclaim(rig), Is.Positive, "precondition: reclaim evicts file pages");
        var evicted = cache.Entries();
        int onePageFile = evicted.Min(e => e.Mapping);
        Assert.That(evicted.Count(e => e.Mapping == onePageFile), Is.EqualTo(1), "precondition: the one-page file was evicted");
        var file = evicted.Where(e => e.Mapping != onePageFile).Select(e => e.Index).ToHashSet();
        int whollyEvicted = Enumerable.Range(0, 4).Count(node => Enumerable.Range(node * 64, 64).All(file.Contains));
        Assert.That(whollyEvicted, Is.Positive, "precondition: a node's every page evicted");
        Assert.That(Nodes(rig), Is.EqualTo(whollyEvicted));

        int mapping = evicted.Max(e => e.Mapping), first = file.Min();
        Assert.That(Read(rig, (mapping, first)));
        Assert.That(Nodes(rig), Is.EqualTo(whollyEvicted - 1), "a page read back into a wholly evicted node");

        var swap = rig.Get<Swap.SwapArea>();
        swap.Shadow[70] = 1; // slot 70: the node of slots 64-127 holds a shadow only
        Assert.That(Nodes(rig), Is.EqualTo(whollyEvicted - 1), "the swap cache's nodes are not counted");
        swap.Shadow[70] = 0;
    }

    private static long Nodes(PressureRig rig) =>
        long.Parse(rig.Sim.ProcVmstat().Split('\n').Single(l => l.StartsWith("workingset_nodes ")).Split(' ')[1]);

    /// <summary>
    /// A read of a page back waits for the disk: the reader sleeps io_latency_ms (lock_page_killable,
    /// folio_put_wait_locked) while the clock runs on, holding its own reference, which it drops once the copy has
    /// marked the page accessed. With io_latency_ms 0 it does not wait.
    /// </summary>
    [TestCase("fixed", 3.0)]
    [TestCase("v6.1", 3.0)]
    [TestCase("v6.1", 0.0)]
    public void ReadBack_WaitsIoLatencyMsForTheDisk(string design, double ioLatencyMs)
    {
        var rig = new PressureRig(memoryMib: 64, design: design, ioLatencyMs: ioLatencyMs);
        rig.Sim.WorkloadFile(1);
        Assert.That(Reclaim(rig), Is.Positive, "precondition: reclaim evicted file pages");
        var entry = rig.Get<PageCache>().Entries()[0];
        var clock = rig.Get<Engine.Time.SimClock>();
        long before = clock.NowNs;
        Assert.That(Read(rig, entry));
        long waited = clock.NowNs - before, latency = (long)(ioLatencyMs * 1_000_000);
        Assert.That(waited, Is.GreaterThanOrEqualTo(latency).And.LessThan(latency + 100_000), "the read's wait and a few steps");
        Assert.That(rig.Pages.Count[PageAt(rig, entry)], Is.EqualTo(1), "the reader's reference dropped: the page cache's alone");
    }

    /// <summary>try_to_free_pages of the design's reclaim, for one page.</summary>
    private static long Reclaim(PressureRig rig) => rig.Get<Engine.Reclaim.IReclaim>().TryToFreePages(0, Engine.PageAlloc.Gfp.Kernel);

    /// <summary>A read(2) of the evicted page at <paramref name="entry"/>.</summary>
    private static bool Read(PressureRig rig, (int Mapping, int Index) entry) =>
        rig.Get<Filemap>().ReadMissingPage(entry.Mapping, entry.Index);

    private static long Shadow(PressureRig rig, (int Mapping, int Index) entry)
    {
        var cache = rig.Get<PageCache>();
        long shadow = cache.TakeShadow(entry.Mapping, entry.Index);
        cache.StoreShadow(entry.Mapping, entry.Index, shadow);
        return shadow;
    }

    private static int PageAt(PressureRig rig, (int Mapping, int Index) entry) =>
        Enumerable.Range(0, rig.Pages.NrPages).Single(pfn => rig.Pages.Kind[pfn] == (byte)PageKind.File
            && rig.Pages.Mapping[pfn] == entry.Mapping && rig.Pages.Index[pfn] == entry.Index);
}
