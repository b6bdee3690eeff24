using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// swap_writepage (v3.16 mm/page_io.c; 6.1.78 alike with folio_free_swap) first tries try_to_free_swap: a swap-cache
/// page whose slot no page table names any more is taken out of the swap cache, dirty again, and not written.
/// </summary>
public class SwapWritepageTests
{
    /// <summary>
    /// Reclaim holds a page it has added to swap and unmapped (its PTE the swap entry) when its owner munmaps that
    /// address: free_swap_and_cache drops the slot's last reference but leaves the locked page in the swap cache. pageout
    /// then writes nothing (no pswpout; nr_vmscan_write still counts the writepage call), the page leaves the swap cache
    /// and its slot is let go of; shrink_page_list keeps the dirty page and the putback frees it, its data gone with it.
    /// </summary>
    [TestCase("fixed")]
    [TestCase("v6.1")]
    public void Pageout_OfASwapCachePageNobodyRefersTo_WritesNothing_AndThePutbackFreesIt(string design)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 8, design: design);
        rig.Sim.WorkloadAnon(1);
        var pages = rig.Pages;
        var area = rig.Get<SwapArea>();
        int page = Enumerable.Range(0, pages.NrPages).First(pfn => pages.PageMapped(pfn) && pages.PageLru(pfn));
        var zone = rig.Node.ZoneOf(page);
        var lru = rig.Get<Lru>();
        Assert.That(lru.IsolateLruPage(page), Is.Zero);
        pages.Set(page, PG.Locked); // shrink_page_list's trylock_page
        Assert.That(rig.Get<SwapCache>().AddToSwap(page), Is.True);
        int slot = pages.Private[page];
        (int mapping, int index) = (pages.Mapping[page], pages.Index[page]);
        Assert.That(rig.Get<Rmap>().TryToUnmapSwapCache(page, ignoreAccess: true), Is.True);
        Assert.That(rig.Get<Munmap>().FreeChosen(page, mapping, index), Is.False, "the PTE held a swap entry, not the page");
        pages.Clear(page, PG.Locked);
        Assert.That((pages.Test(page, PG.SwapCache), pages.PageMapped(page), area.Swapcount(slot)), Is.EqualTo((true, false, 0)),
            "precondition: an unmapped swap-cache page whose slot nobody refers to");
        var contents = rig.Get<PageContents>();
        long live = contents.Live, pswpout = rig.Event(VmEvent.Pswpout), written = zone.Stat[(int)ZoneStat.NrVmscanWrite];
        long freeSlots = area.NrSwapPages;

        int list = rig.Lists.NewHead();
        rig.Lists.Add(page, list);
        long reclaimed = -1;
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", () => reclaimed = design == "v6.1"
            ? rig.Get<Engine.Reclaim.V6_1.FolioReclaim>().ShrinkPageList(list, zone: null,
                new Engine.Reclaim.V6_1.ScanControl { GfpMask = Gfp.Kernel, ReclaimIdx = 3 }, new PageListReclaim.BatchStats())
            : rig.Get<Engine.Reclaim.V3_16.PageReclaim>().ShrinkPageList(list, zone,
                new Engine.Reclaim.V3_16.ScanControl { GfpMask = Gfp.Kernel }, new PageListReclaim.BatchStats()))], null);

        Assert.That(reclaimed, Is.Zero, "kept: dirty again");
        Assert.That(rig.Event(VmEvent.Pswpout), Is.EqualTo(pswpout), "nothing written");
        Assert.That(zone.Stat[(int)ZoneStat.NrVmscanWrite], Is.EqualTo(written + 1));
        Assert.That((pages.Test(page, PG.SwapCache), pages.Test(page, PG.Dirty), pages.Test(page, PG.Writeback)), Is.EqualTo((false, true, false)));
        Assert.That((area.CachePage[slot], area.Swapcount(slot)), Is.EqualTo((-1, 0)), "its slot let go of");
        // v3.16 gives it back at once; 6.1 keeps it in this CPU's slots cache, to be given back with a batch.
        Assert.That(area.NrSwapPages, Is.EqualTo(design == "v6.1" ? freeSlots : freeSlots + 1));
        Assert.That(contents.Live, Is.EqualTo(live - 1), "its data stopped existing");
        rig.Lists.Del(page);
        rig.Lists.FreeHead(list);
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "putback", () => lru.PutbackLruPage(page))], null);
        Assert.That(pages.Kind[page], Is.EqualTo((byte)PageKind.Free));
        rig.Sim.CheckInvariants();
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
