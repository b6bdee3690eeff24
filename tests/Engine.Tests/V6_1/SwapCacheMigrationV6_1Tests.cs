using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Swap;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// Migrating a swap-cache page (6.1 mm/migrate.c folio_migrate_mapping; v3.16/v4.8 migrate_page_move_mapping alike): the
/// new page takes PG_swapcache and the slot (page_private), and the swap address space's entry for the slot is
/// replaced by it (xas_store; radix_tree_replace_slot before 4.17). Otherwise the slot still names the old page, which
/// migration frees: a later swap-in (lookup_swap_cache) takes a reference on a free page, and the allocator hands it
/// out with _refcount 1.
/// </summary>
public class SwapCacheMigrationV6_1Tests
{
    /// <summary>Isolate <paramref name="page"/> and migrate it (MIGRATE_SYNC) to a free order-0 page; asserts success; the new page.</summary>
    private static int MigrateOne(Rig rig, int page)
    {
        int list = rig.IsolateLruPages(rig.Node.ZoneOf(page), 1, page);
        var targets = new List<int>();
        int rc = rig.RunOnCpu0(() => rig.Get<IMigration>().MigratePages(list, _ =>
        {
            int target = rig.Get<IPageAllocator>().AllocPages(0, Gfp.HighUserMovable | Gfp.NoWarn);
            targets.Add(target);
            return target;
        }, null, MigrateMode.Sync));
        Assert.That(rc, Is.Zero);
        return targets.Single();
    }

    /// <summary>
    /// The shrunk sequence of the property test's failure (CsCheck seed "0000001cTLki"): swap fills while kcompactd and
    /// direct compaction migrate unmapped swap-cache pages; the touch then swaps them in through the stale slots, and
    /// __alloc_pages found "nonzero _refcount" pages on the free lists.
    /// </summary>
    [Test]
    public void FolioMigrateMapping_v6_1_SwapInAfterCompactionMigratedSwapCachePages_NoBadPage()
    {
        var sim = Simulation.Create(new SimulationOptions
        {
            MemoryMib = 32, Design = KernelDesign.Parse("v6.1"), Cpus = 3, PerCpuLists = false, SwapMib = 8, Seed = 1,
        });
        var ops = new (string Name, Action Op)[]
        {
            ("anon(20 MiB)", () => sim.WorkloadAnon(20)),
            ("inflate(5 MiB)", () => sim.BalloonInflate(5)),
            ("free(0.63, all, seed 288)", () => sim.WorkloadFree(0.63, "interleave", 288, "all")),
            ("anon(20 MiB)", () => sim.WorkloadAnon(20)),
            ("run(232.29 ms)", () => sim.Run(232.29)),
            ("run(211.97 ms)", () => sim.Run(211.97)),
            ("touch(1, seed 798)", () => sim.WorkloadTouch(1, "all", "interleave", 798)),
        };
        foreach (var (name, op) in ops)
        {
            try { op(); }
            catch (ArgumentException) { } // a refused operation, as in the property test
            Assert.That(sim.Reports, Is.Empty, $"after {name}: {sim.Reports.FirstOrDefault()}");
        }
    }

    /// <summary>
    /// One unmapped swap-cache page migrated by hand, on every design (the migratepage callbacks are shared): the slot
    /// names the new page, which carries PG_swapcache and the slot; the old page is free; swapping everything back in
    /// reports nothing.
    /// </summary>
    [Test]
    public void FolioMigrateMapping_v6_1_SwapCachePageHandsItsSlotToTheNewPage([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = Rig.Create(TestOptions.Classic(32, 1, 1, design) with { Reclaim = true, SwapMib = 8 });
        rig.Sim.WorkloadAnon(20);
        rig.Sim.WorkloadAnon(20);
        rig.Sim.Run(100); // writebacks complete: clean swap-cache pages, unmapped, wait on the LRU
        var p = rig.Pages;
        var swap = rig.Get<SwapArea>();
        int page = Enumerable.Range(0, p.NrPages).FirstOrDefault(
            pfn => p.Test(pfn, PG.SwapCache) && p.PageLru(pfn) && !p.PageMapped(pfn) && !p.Test(pfn, PG.Writeback) && p.Count[pfn] == 1, -1);
        Assert.That(page, Is.GreaterThanOrEqualTo(0), "precondition: an unmapped clean swap-cache page on the LRU");
        int slot = p.Private[page];
        long token = p.Content[page];
        Assert.That(swap.CachePage[slot], Is.EqualTo(page), "precondition");

        int newpage = MigrateOne(rig, page);
        Assert.That(swap.CachePage[slot], Is.EqualTo(newpage), "the slot's entry replaced by the new page");
        Assert.That(p.Test(newpage, PG.SwapCache), Is.True, "folio_set_swapcache(newfolio)");
        Assert.That(p.Private[newpage], Is.EqualTo(slot), "page_private copied");
        Assert.That((p.Count[newpage], p.Content[newpage]), Is.EqualTo((1, token)), "the swap cache's reference and the data");
        Assert.That(p.Test(page, PG.SwapCache), Is.False);
        Assert.That(p.Kind[page], Is.EqualTo((byte)PageKind.Free), "the old page was freed");

        rig.Sim.WorkloadTouch(1, "all", "interleave", 0);
        Assert.That(rig.Sim.Reports.Where(r => r.KindName != "balloon_unmovable"), Is.Empty);
    }

    /// <summary>
    /// A mapped swap-cache page (swapped in, kept in the swap cache: swap under half full) migrated: v3.16's
    /// try_to_unmap_one gives its PTE the swap entry, not a migration entry, so after the move the new page sits in the
    /// swap cache unmapped (NR_ANON_PAGES one lower, the process's PTE the swap entry, its RSS a swap entry) until a fault
    /// maps it; from 4.5 a migration entry maps the new page again at once (movable, v6.1).
    /// </summary>
    [TestCase("legacy", false)]
    [TestCase("fixed", false)]
    [TestCase("movable", true)]
    [TestCase("v6.1", true)]
    public void MigratingAMappedSwapCachePage_v3_16_LeavesItUnmappedInTheSwapCache_v4_8On_MapsItAgain(string design, bool remapped)
    {
        // 64 MiB of swap, so that it stays under half full: over half, a slot scan that passes a swapped-in page's slot
        // frees it (__try_to_reclaim_swap), and with 32 MiB of swap v6.1 kept no mapped swap-cache page.
        var rig = Rig.Create(TestOptions.Classic(32, 1, 1, design) with { Reclaim = true, SwapMib = 64 });
        rig.Sim.WorkloadAnon(20);
        rig.Sim.WorkloadAnon(20);
        rig.Sim.Run(100);
        rig.Sim.WorkloadTouch(1, "anon", "interleave", 0); // swap-ins: mapped again, still in the swap cache
        var p = rig.Pages;
        var swap = rig.Get<SwapArea>();
        Assert.That(swap.VmSwapFull, Is.False, "precondition: swap under half full");
        int page = Enumerable.Range(0, p.NrPages).FirstOrDefault(
            pfn => p.Test(pfn, PG.SwapCache) && p.PageLru(pfn) && p.PageMapped(pfn) && !p.Test(pfn, PG.Writeback), -1);
        Assert.That(page, Is.GreaterThanOrEqualTo(0), "precondition: a mapped swap-cache page on the LRU");
        int slot = p.Private[page];
        var owner = rig.Get<Workload.ProcessTable>().OwnerOf(p.Mapping[page])!;
        int index = p.Index[page];
        long anon = rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrAnonPages);

        int newpage = MigrateOne(rig, page);
        Assert.That(swap.CachePage[slot], Is.EqualTo(newpage), "the new page took the slot");
        Assert.That(p.PageMapped(newpage), Is.EqualTo(remapped));
        Assert.That(owner.Pte(index), Is.EqualTo(remapped ? newpage : Workload.Process.SwapEntry(slot)));
        Assert.That(rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrAnonPages), Is.EqualTo(remapped ? anon : anon - 1));

        rig.Sim.WorkloadTouch(1, "all", "interleave", 0); // the unmapped one is mapped again by a minor fault
        Assert.That(p.PageMapped(newpage), Is.True);
        Assert.That(rig.Sim.Reports.Where(r => r.KindName != "balloon_unmovable"), Is.Empty);
    }
}
