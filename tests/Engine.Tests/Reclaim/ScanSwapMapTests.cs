using BalloonScript.Engine.Swap;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// Slot placement on a rotational swap device (no cluster_info): v3.16 <c>scan_swap_map</c> and 6.1.78
/// <c>scan_swap_map_slots</c>, mm/swapfile.c. Slots come in runs of SWAPFILE_CLUSTER (256) from <c>cluster_next</c>;
/// when a run is used up the next starts at the first wholly free 256-slot run from <c>lowest_bit</c>, or, with none,
/// at <c>lowest_bit</c> itself; a 6.1 batch stops at <c>highest_bit</c>.
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
}
