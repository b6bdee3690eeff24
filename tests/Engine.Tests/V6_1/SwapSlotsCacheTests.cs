using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Swap.V6_1;
using BalloonScript.Engine.Tests.Reclaim;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// 6.1's per-CPU swap slots cache (mm/swap_slots.c) against v3.16's direct allocation (mm/swapfile.c get_swap_page):
/// slots leave the area a batch at a time and come back a batch at a time, per CPU, while swap has room.
/// </summary>
public class SwapSlotsCacheTests
{
    private static (PressureRig Rig, SwapArea Area) Guest(string design, long swapMib = 16)
    {
        var rig = new PressureRig(memoryMib: 16, swapMib: swapMib, design: design);
        return (rig, rig.Get<SwapArea>());
    }

    /// <summary>
    /// 6.1's cache takes SWAP_BATCH slots off nr_swap_pages at a time, v3.16 one. The very first batch comes back short:
    /// scan_swap_map_slots of a rotational device starts by looking for a free 256-slot cluster, and the 255 slots it
    /// looks at before it finds one (slots 1 to 256) leave LATENCY_LIMIT room for two slots before the batch takes a
    /// break; the next batch is whole.
    /// </summary>
    [Test]
    public void FolioAllocSwap_v6_1_TakesABatchOffNrSwapPages_v3_16_OneSlot()
    {
        var (_, cached) = Guest("v6.1");
        var (_, direct) = Guest("fixed");
        long total = cached.TotalSwapPages;

        int[] fromCache = [cached.GetSwapPage(), cached.GetSwapPage()];
        int[] fromArea = [direct.GetSwapPage(), direct.GetSwapPage()];

        Assert.That(fromCache, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(cached.NrSwapPages, Is.EqualTo(total - 2), "the first batch: two slots, after the cluster search");
        Assert.That(cached.GetSwapPage(), Is.EqualTo(3));
        Assert.That(cached.NrSwapPages, Is.EqualTo(total - 2 - SwapSlotsCache.CacheSize), "get_swap_pages took SWAP_BATCH at once");
        Assert.That(fromArea, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(direct.NrSwapPages, Is.EqualTo(total - 2));
    }

    /// <summary>
    /// __swap_duplicate(SWAP_HAS_CACHE) (both versions): -EEXIST for a slot already SWAP_HAS_CACHE, -ENOENT for one not in
    /// use; only a slot in use without a cache gets the bit. 6.1's slots cache leaves a slot whose last user went
    /// SWAP_HAS_CACHE with no user until its batch goes back (free_swap_slot): swapcache_prepare refuses it, so swap-in
    /// readahead reads nothing into a free slot.
    /// </summary>
    [TestCase("v6.1", false)]
    [TestCase("fixed", true)]
    public void SwapcachePrepare_RefusesASlotAlreadySwapHasCache_AFreedOneIn6_1sReturnListToo(string design, bool freedAtOnce)
    {
        var (_, area) = Guest(design);
        int slot = area.GetSwapPage();
        Assert.That(area.SwapcachePrepare(slot), Is.False, "-EEXIST: a page is entering the swap cache for it");
        area.SwapDuplicate(slot);   // a PTE refers to it
        area.SwapcacheFree(slot);   // and its cache page is gone
        Assert.That(area.SwapcachePrepare(slot), Is.True, "in use, no cache: readahead may read it");
        area.SwapcacheFree(slot);
        area.SwapFree(slot);        // its last user goes

        Assert.That(area.Swapcount(slot), Is.Zero);
        Assert.That(area.SwapcachePrepare(slot), Is.False, freedAtOnce ? "-ENOENT: free" : "-EEXIST, then no user: nothing read");
    }

    [Test]
    public void FolioAllocSwap_v6_1_EachCpuHasABatchOfItsOwn()
    {
        var (rig, area) = Guest("v6.1");
        int onCpu0 = area.GetSwapPage(), onCpu1 = -1;

        rig.Get<Scheduler>().Run([new SimTask(0, 1, "swap out on cpu1", () => onCpu1 = area.GetSwapPage())], null);

        Assert.That(onCpu0, Is.EqualTo(1));
        Assert.That(onCpu1, Is.EqualTo(3), "cpu1 refilled its own cache with the next batch (cpu0's first batch was slots 1 and 2)");
        Assert.That(area.NrSwapPages, Is.EqualTo(area.TotalSwapPages - 2 - SwapSlotsCache.CacheSize));
    }

    [Test]
    public void FreeSwapSlot_v6_1_GivesSlotsBackABatchAtATime_v3_16_AtOnce()
    {
        foreach (var (design, batched) in new[] { ("v6.1", true), ("fixed", false) })
        {
            var (_, area) = Guest(design);
            var slots = Enumerable.Range(0, SwapSlotsCache.CacheSize + 1).Select(_ => area.GetSwapPage()).ToList();
            long before = area.NrSwapPages;

            // swapcache_free with no page table using them: each slot's last user is gone.
            foreach (int slot in slots.Take(SwapSlotsCache.CacheSize)) area.SwapcacheFree(slot);
            long afterABatch = area.NrSwapPages;
            area.SwapcacheFree(slots[^1]);

            if (batched)
            {
                Assert.That(afterABatch, Is.EqualTo(before), $"{design}: held in the CPU's return cache");
                Assert.That(area.NrSwapPages, Is.EqualTo(before + SwapSlotsCache.CacheSize), $"{design}: the full return cache given back");
            }
            else Assert.That(area.NrSwapPages, Is.EqualTo(before + SwapSlotsCache.CacheSize + 1), $"{design}: each slot back at once");
        }
    }

    [Test]
    public void CheckCacheActive_v6_1_OffWithLittleSwap_AndEveryCpusSlotsGivenBackWhenSwapRunsLow()
    {
        // 255 usable slots: not more than 2 CPUs x THRESHOLD_ACTIVATE (640), so the cache never turns on.
        var (_, small) = Guest("v6.1", swapMib: 1);
        small.GetSwapPage();
        Assert.That(small.NrSwapPages, Is.EqualTo(small.TotalSwapPages - 1));

        // 767 slots: on at the first allocation; below 2 x THRESHOLD_DEACTIVATE (256) free, off, and the batch it held
        // given back.
        var (rig, area) = Guest("v6.1", swapMib: 3);
        var caches = (SwapSlotsCache)rig.Get<ISwapSlots>();
        int taken = 0;
        while (area.NrSwapPages >= 2 * SwapSlotsCache.ThresholdDeactivate)
        {
            area.GetSwapPage();
            taken++;
        }
        Assert.That(caches.Held, Is.Positive, "precondition: the cache holds part of a batch");
        area.GetSwapPage();
        taken++;
        Assert.That(caches.Held, Is.Zero);
        Assert.That(area.NrSwapPages, Is.EqualTo(area.TotalSwapPages - taken), "only the slots handed out are off the pool");
    }
}
