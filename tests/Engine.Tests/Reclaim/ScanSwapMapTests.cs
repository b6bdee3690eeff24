using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// Slot placement on a rotational swap device (no cluster_info): v3.16 <c>scan_swap_map</c> and 6.1.78
/// <c>scan_swap_map_slots</c>, mm/swapfile.c. Slots come in runs of SWAPFILE_CLUSTER (256) from <c>cluster_next</c>;
/// when a run is used up the next starts at the first wholly free 256-slot run from <c>lowest_bit</c>, or, with none,
/// at <c>lowest_bit</c> itself; a 6.1 batch stops at <c>highest_bit</c>. While swap is over half full a slot only the
/// swap cache holds is freed on the way (<c>__try_to_reclaim_swap</c>) and taken.
/// </summary>
public class ScanSwapMapTests
{
    private static SwapArea Area(string design, long swapMib) =>
        new PressureRig(memoryMib: 16, swapMib: swapMib, design: design).Get<SwapArea>();

    private static int[] Take(SwapArea area, int n) => Enumerable.Range(0, n).Select(_ => area.GetOneSwapPage()).ToArray();

    [Test]
    public void ScanSwapMap_v3_16_AUsedUpClusterMovesToTheFirstFreeRun_OrWithNoneToLowestBit()
    {
        var area = Area("fixed", 8);
        Assert.That(Take(area, 600), Is.EqualTo(Enumerable.Range(1, 600)), "fresh: clusters from slot 1 up");
        for (int slot = 10; slot <= 300; slot++) area.EntryFree(slot); // a free run of 291 slots

        Assert.That(Take(area, 168), Is.EqualTo(Enumerable.Range(601, 168)), "the cluster begun at 513 goes on to 768");
        Assert.That(Take(area, 2), Is.EqualTo(new[] { 10, 11 }), "used up: the first free 256-slot run, from lowest_bit");

        // No free run: odd slots free above the cursor, then odd slots below it. The cluster being used up, the search
        // finds no free 256-slot run, and the next slot is lowest_bit's, below, though free slots remain above.
        var fragmented = Area("fixed", 8);
        Take(fragmented, (int)fragmented.TotalSwapPages);
        for (int slot = 1001; slot <= fragmented.TotalSwapPages; slot += 2) fragmented.EntryFree(slot);
        Take(fragmented, 11);
        for (int slot = 1; slot < 500; slot += 2) fragmented.EntryFree(slot);
        var next = new List<int>();
        while (next.Count == 0 || next[^1] > 1000) next.Add(fragmented.GetOneSwapPage());
        Assert.That(next[^1], Is.EqualTo(1), "lowest_bit");
        Assert.That(next[^2], Is.LessThan(fragmented.TotalSwapPages - 1), "while free slots remained above the cursor");
        Assert.That(next[..^1], Is.EqualTo(Enumerable.Range(0, next.Count - 1).Select(i => next[0] + 2 * i)), "till then, each next free slot up");
    }

    [Test]
    public void ScanSwapMapSlots_v6_1_ABatchStopsAtHighestBit_TheNextStartsAtLowestBit()
    {
        var area = Area("v6.1", 1); // 255 usable slots: fewer than a cluster, so no cluster search
        var batch = new int[SwapArea.SwapBatch];
        Assert.That(Enumerable.Range(0, 3).Select(_ => area.GetSwapPages(SwapArea.SwapBatch, batch)), Is.EqualTo(new[] { 64, 64, 64 }));
        for (int slot = 1; slot <= 5; slot++) area.EntryFree(slot);

        Assert.That(area.GetSwapPages(SwapArea.SwapBatch, batch), Is.EqualTo(63), "64 asked, 68 free: it stops at slot 255");
        Assert.That(batch[..63], Is.EqualTo(Enumerable.Range(193, 63)));
        Assert.That(area.GetSwapPages(SwapArea.SwapBatch, batch), Is.EqualTo(5), "from cluster_next past the top: lowest_bit");
        Assert.That(batch[..5], Is.EqualTo(Enumerable.Range(1, 5)));
    }

    /// <summary>
    /// A 255-slot area (1 MiB: 6.1's slots cache stays off) whose slot 100 only a mapped swap-cache page holds (a page
    /// swapped in and kept in the swap cache), every other slot in use but 99, 101 and the top <paramref name="freeAtTop"/>.
    /// The first allocation takes 99 (lowest_bit), leaving cluster_next at 100 for the second. Returns the page.
    /// </summary>
    private static (PressureRig Rig, SwapArea Area, int Page) CacheOnlySlot100(string design, int freeAtTop)
    {
        var rig = new PressureRig(memoryMib: 16, swapMib: 1, design: design);
        rig.Sim.WorkloadAnon(1);
        var area = rig.Get<SwapArea>();
        int page = Enumerable.Range(0, rig.Pages.NrPages).First(pfn => rig.Pages.PageMapped(pfn) && rig.Pages.PageLru(pfn));
        Assert.That(Take(area, 99), Is.EqualTo(Enumerable.Range(1, 99)));
        Assert.That(rig.Get<SwapCache>().AddToSwap(page), Is.True);
        Assert.That(rig.Pages.Private[page], Is.EqualTo(100));
        Take(area, 155);
        Assert.That(area.NrSwapPages, Is.Zero, "precondition: every slot in use");
        foreach (int slot in new[] { 99, 101 }.Concat(Enumerable.Range(256 - freeAtTop, freeAtTop))) area.EntryFree(slot);
        Assert.That(area.GetOneSwapPage(), Is.EqualTo(99));
        return (rig, area, page);
    }

    /// <summary>
    /// v3.16 scan_swap_map, 6.1.78 scan_swap_map_slots: with swap over half full (vm_swap_full, counted as get_swap_pages
    /// counts it, the slot sought already taken off nr_swap_pages), the slot at cluster_next that only the swap cache
    /// holds goes to __try_to_reclaim_swap: its page, if trylock_page takes it, leaves the swap cache (try_to_free_swap:
    /// dirty, still mapped, its data in memory) and the slot is taken. Under half full, or with the page locked (by
    /// reclaim, say), the scan passes it by for the next free slot. With 128 of 255 slots free swap is not over half full,
    /// but the scan sees 127: get_swap_page took the slot it looks for off nr_swap_pages first.
    /// </summary>
    [TestCase("fixed", 56, false, 100)]
    [TestCase("fixed", 56, true, 101)]
    [TestCase("fixed", 127, false, 100)]
    [TestCase("fixed", 128, false, 101)]
    [TestCase("v6.1", 56, false, 100)]
    [TestCase("v6.1", 56, true, 101)]
    [TestCase("v6.1", 127, false, 100)]
    [TestCase("v6.1", 128, false, 101)]
    public void ScanSwapMap_OverHalfFull_FreesASlotOnlyTheSwapCacheHolds_AndTakesIt(string design, int freeAtTop, bool locked, int expected)
    {
        var (rig, area, page) = CacheOnlySlot100(design, freeAtTop);
        var pages = rig.Pages;
        Assert.That(area.NrSwapPages, Is.EqualTo(1 + freeAtTop), "precondition: 101 and the top slots free");
        Assert.That(area.VmSwapFull, Is.EqualTo(freeAtTop < 127), "precondition: 57 slots free of 255 is over half full, 128 not");
        (int count, long token) = (pages.Count[page], pages.Content[page]);
        if (locked) pages.Set(page, PG.Locked);

        Assert.That(area.GetOneSwapPage(), Is.EqualTo(expected));

        bool reclaimed = expected == 100;
        Assert.That(pages.Test(page, PG.SwapCache), Is.EqualTo(!reclaimed));
        Assert.That(pages.Count[page], Is.EqualTo(reclaimed ? count - 1 : count), "the swap cache's reference");
        Assert.That((pages.PageMapped(page), pages.Content[page]), Is.EqualTo((true, token)));
        if (reclaimed) Assert.That(pages.Test(page, PG.Dirty), Is.True, "the only copy is in memory now");
        pages.Clear(page, PG.Locked);
        rig.Sim.CheckInvariants();
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// The page of a cache-only slot may be mapped by nobody: its process exited while reclaim held the page locked with
    /// the swap entry in the PTE (free_swap_and_cache leaves a locked page in the swap cache). __try_to_reclaim_swap
    /// drops the swap cache's reference and then its own (find_get_page's), the page's last: it leaves the LRU and is
    /// freed, and its data, which no page table nor slot refers to, stops existing.
    /// </summary>
    [TestCase("fixed")]
    [TestCase("v6.1")]
    public void ScanSwapMap_OverHalfFull_ACacheOnlyPageNobodyMaps_IsFreedWithItsData(string design)
    {
        var (rig, area, page) = CacheOnlySlot100(design, 56);
        var pages = rig.Pages;
        var owner = rig.Get<ProcessTable>().OwnerOf(pages.Mapping[page])!;
        pages.Set(page, PG.Locked);
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () =>
        {
            rig.Get<Rmap>().TryToUnmapSwapCache(page, ignoreAccess: true);
            rig.Get<Munmap>().ExitMmap(owner);
        })], null);
        pages.Clear(page, PG.Locked);
        Assert.That((pages.Test(page, PG.SwapCache), pages.PageMapped(page), area.Swapcount(100)), Is.EqualTo((true, false, 0)),
            "precondition: an unmapped swap-cache page, its slot referred to by nobody");
        var contents = rig.Get<PageContents>();
        long live = contents.Live;
        Assert.That(pages.Content[page], Is.Not.Zero, "precondition: its data still exists");

        Assert.That(area.GetOneSwapPage(), Is.EqualTo(100));

        Assert.That(pages.Kind[page], Is.EqualTo((byte)PageKind.Free));
        Assert.That(pages.PageLru(page), Is.False);
        Assert.That(contents.Live, Is.EqualTo(live - 1));
        rig.Sim.CheckInvariants();
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
