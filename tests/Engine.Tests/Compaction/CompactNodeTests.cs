using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>compact_memory (v3.16 compact_node → compact_zone, order -1, MIGRATE_SYNC) on whole guests.</summary>
public class CompactNodeTests
{
    private static long FreeBlocksOfOrderAtLeast(Simulation sim, int order) => sim.FreeBlocks().Skip(order).Sum();

    [Test]
    public void CompactNode_v3_16_TurnsFragmentedMovableZoneIntoOrder9Blocks()
    {
        var sim = Rig.Create(128).FragmentedAnon().Sim;
        Assert.That(FreeBlocksOfOrderAtLeast(sim, 9), Is.Zero, "precondition: every other page is free, no order-9 block");
        int extfragBefore = sim.ExtfragIndex(9);
        Assert.That(extfragBefore, Is.GreaterThan(900), "precondition: order-9 failures are due to fragmentation");

        var result = sim.Compact();

        Assert.That(result.Migrated, Is.GreaterThan(0));
        Assert.That(FreeBlocksOfOrderAtLeast(sim, 9), Is.GreaterThan(0));
        Assert.That(sim.ExtfragIndex(9), Is.LessThan(extfragBefore));
        Assert.That(sim.Reports, Is.Empty);
    }

    /// <summary>
    /// compact_nodes (v3.16, and v4.8's, which the movable design borrows) drains every CPU's LRU batches before it
    /// compacts (lru_add_drain_all), and compact_zone its own CPU's (migrate_prep_local): the 13 anon pages a workload
    /// left in its pagevec, not yet PageLRU, are on the LRU when the migrate scanner reaches them, and it isolates them.
    /// (It then finds no target, every free page being in a whole free pageblock, which suitable_migration_target
    /// refuses, and puts them back.) Undrained, they would not be isolated at all.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("movable")]
    public void CompactNode_v3_16_DrainsTheLruBatchesBeforeItScans(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Pagevecs = true });
        rig.Sim.WorkloadAnon(13 / 256.0);
        var parked = rig.Get<Pagevecs>().LruAdd(0).ToList();
        Assert.That(parked, Has.Count.EqualTo(13).And.None.Matches<int>(p => rig.Pages.PageLru(p)), "precondition: parked in CPU 0's batch");

        Assert.That(rig.Sim.Compact().Migrated, Is.Zero);
        Assert.That(rig.Event(VmEvent.CompactIsolated), Is.EqualTo(13));
    }

    [Test]
    public void CompactNode_v3_16_KeepsNrFreePagesAndEveryContentToken()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        long freeBefore = rig.VmStat.Global(ZoneStat.NrFreePages);
        var tokensBefore = rig.Tokens();

        var result = rig.Sim.Compact();

        Assert.That(result.Migrated, Is.GreaterThan(0));
        Assert.That(rig.VmStat.Global(ZoneStat.NrFreePages), Is.EqualTo(freeBefore));
        Assert.That(rig.Tokens().Keys, Is.EquivalentTo(tokensBefore.Keys));
        Assert.That(rig.Sim.Reports, Is.Empty, "PageStateCheck after compact found accounting or data problems");
    }

    [Test]
    public void MigratePages_v3_16_PgmigrateSuccessCountsExactlyThePagesWhoseContentMoved()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var before = rig.Tokens();

        var result = rig.Sim.Compact();

        var after = rig.Tokens();
        long moved = before.Count(kv => after[kv.Key] != kv.Value);
        Assert.That(result.Migrated, Is.EqualTo(moved));
        Assert.That(result.Failed, Is.Zero);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.EqualTo(moved));
    }

    /// <summary>
    /// A zone that ends inside a pageblock (a 17 MiB guest: Normal is PFN 4096-4352, half a pageblock). The first
    /// compaction leaves compact_cached_free_pfn at the zone end; the second starts there. With the v4.8 migrate scanner
    /// under v3.16's compact_zone (movable), free_pfn 4352 &gt; migrate_pfn 4096 read as "not met" while
    /// isolate_migratepages, which scans only whole pageblocks ending at or below free_pfn, never moved: compact_zone
    /// looped for ever (found by the long API fuzzer). v4.8 tests compact_scanners_met by pageblock.
    /// </summary>
    [TestCaseSource(typeof(TestDesigns), nameof(TestDesigns.Names))]
    public void CompactNode_AZoneEndingInsideAPageblock_EndsEveryTimeInEveryDesign(string design)
    {
        foreach (long memoryMib in new long[] { 17, 33 })
        {
            var rig = Rig.Create(TestOptions.Classic(memoryMib, design: design));
            var zone = rig.Get<Node>().Zones[^1];
            Assert.That(zone.EndPfn % Zone.PageblockNrPages, Is.Not.Zero, "precondition: the last zone ends mid-pageblock");
            rig.FragmentedAnon();
            var compactions = Bounded.Run(() => Enumerable.Range(0, 3).Select(_ => rig.Sim.Compact()).ToList(),
                $"{memoryMib} MiB: three compactions in a row");
            Assert.That(compactions[0].Migrated, Is.GreaterThan(0), "the first compaction had work to do");
            Assert.That(rig.Sim.Reports, Is.Empty);
        }
    }

    [Test]
    public void CompactFinished_v3_16_ScannersMeet_CompleteWithCachedPfnsResetAndSkipFlushDue()
    {
        var rig = Rig.Create(64).FragmentedAnon();

        var result = rig.Sim.Compact();

        Assert.That(result.ZoneNames, Is.EqualTo(rig.Node.Zones.Select(z => z.Name).ToArray()));
        Assert.That(result.ZoneOutcomes, Is.All.EqualTo("COMPACT_COMPLETE"));
        foreach (var zone in rig.Node.Zones)
        {
            Assert.That(zone.CompactCachedMigratePfn, Is.EqualTo(new[] { zone.StartPfn, zone.StartPfn }));
            Assert.That(zone.CompactCachedFreePfn, Is.EqualTo(zone.EndPfn));
            Assert.That(zone.CompactBlockskipFlush, Is.True);
            Assert.That(zone.PageblockSkip, Is.All.False, "compact_memory ignores and never sets skip bits");
        }
    }

    [Test]
    public void CompactNode_v3_16_PageblocksFullOfUnmovableSlabStayFragmented()
    {
        var rig = Rig.Create(64);
        var sim = rig.Sim;
        sim.WorkloadSlab(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        sim.WorkloadFree(0.5, "interleave", 0);
        var mapBefore = sim.PageMap();
        int extfragBefore = sim.ExtfragIndex(9);

        var result = sim.Compact();

        Assert.That(result.Isolated, Is.Zero);
        Assert.That(result.Migrated, Is.Zero);
        Assert.That(sim.PageMap(), Is.EqualTo(mapBefore));
        Assert.That(FreeBlocksOfOrderAtLeast(sim, 9), Is.Zero);
        Assert.That(sim.ExtfragIndex(9), Is.EqualTo(extfragBefore));
        Assert.That(result.ZoneOutcomes, Is.All.EqualTo("COMPACT_COMPLETE"));
    }

    [Test]
    public void SuitableMigrationTarget_v3_16_FreePagesInUnmovablePageblocksAreNeverTargets()
    {
        var rig = Rig.Create(64);
        var sim = rig.Sim;
        long room = rig.Get<Workload.Workload>().AllocatablePages();
        sim.WorkloadSlab(room / 3 / 256.0);
        sim.WorkloadAnon(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        sim.WorkloadFree(0.5, "interleave", 0);
        var kindBefore = sim.PageMap();
        var tokensBefore = rig.Tokens();

        var result = sim.Compact();

        Assert.That(result.Migrated, Is.GreaterThan(0));
        var kindAfter = sim.PageMap();
        var tokensAfter = rig.Tokens();
        int unmovableBlocks = 0, freeInUnmovable = 0;
        foreach (var zone in rig.Node.Zones)
            for (int start = zone.StartPfn; start < zone.EndPfn; start += Zone.PageblockNrPages)
            {
                if (zone.GetPageblockMigratetype(start) != MigrateType.Unmovable) continue;
                unmovableBlocks++;
                for (int pfn = start; pfn < Math.Min(start + Zone.PageblockNrPages, zone.EndPfn); pfn++)
                {
                    if (kindBefore[pfn] == (byte)PageKind.Slab)
                        Assert.That(tokensAfter[rig.Pages.Content[pfn]], Is.EqualTo(pfn), "slab pages never move");
                    if (kindBefore[pfn] != (byte)PageKind.Free) continue;
                    freeInUnmovable++;
                    Assert.That(kindAfter[pfn], Is.EqualTo((byte)PageKind.Free), $"pfn {pfn} of an UNMOVABLE pageblock became a target");
                }
            }
        Assert.That(unmovableBlocks, Is.GreaterThan(0), "precondition: slab took pageblocks");
        Assert.That(freeInUnmovable, Is.GreaterThan(0), "precondition: the UNMOVABLE pageblocks had free pages to refuse");
        Assert.That(tokensAfter.Keys, Is.EquivalentTo(tokensBefore.Keys));
    }

    /// <summary>
    /// compact_pgdat (v3.16 mm/compaction.c, kswapd's compaction) runs __compact_pgdat with one compact_control, and
    /// compact_zone never clears finished_update_migrate: once DMA's migrate scanner isolated a page, DMA32's cached
    /// migrate position stays where it was while its scanner passes pageblocks it cannot take from (here two UNMOVABLE
    /// ones, which async compaction skips); a control of its own would move it to the second block.
    /// </summary>
    [Test]
    public void CompactPgdat_v3_16_OneCompactControl_AnIsolationInDmaKeepsDma32sCachedPositionStill()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var dma32 = rig.Node.Zones.Single(z => z.Name == "DMA32");
        int block = 1 << Zone.PageblockOrder;
        dma32.SetPageblockMigratetype(dma32.StartPfn, MigrateType.Unmovable);
        dma32.SetPageblockMigratetype(dma32.StartPfn + block, MigrateType.Unmovable);
        var compactor = rig.Get<Engine.Compaction.V3_16.Compactor>();
        Assert.That(compactor.CompactionSuitable(dma32, 9), Is.EqualTo(Engine.Compaction.CompactStatus.Continue), "precondition");
        long isolated = rig.Event(VmEvent.CompactIsolated);

        rig.RunOnCpu0(() => { compactor.CompactPgdat(9); return 0; });

        Assert.That(rig.Event(VmEvent.CompactIsolated), Is.GreaterThan(isolated), "precondition: DMA isolated pages");
        Assert.That(dma32.CompactCachedMigratePfn[0], Is.EqualTo(dma32.StartPfn), "finished_update_migrate carried over from DMA");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// migrate_page_copy (v3.16) moves a dirty page-cache page's PG_dirty through clear_page_dirty_for_io and
    /// __set_page_dirty_nobuffers, whose account_page_dirtied counts NR_DIRTIED again: compaction raises nr_dirtied by
    /// one per dirty page-cache page it migrates, nr_dirty staying. Since 4.4 migrate_page_move_mapping moves the flag
    /// itself, so v4.8 (movable) counts nothing.
    /// </summary>
    [TestCase("fixed", true)]
    [TestCase("movable", false)]
    public void CompactNode_MigratingADirtyFileDirtiesItAgainInV3_16Only(string design, bool counted)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        rig.Sim.WorkloadFile(rig.Get<Workload.Workload>().AllocatablePages() / 256.0, dirty: 0.5);
        rig.Sim.WorkloadFree(0.5, "random", 1); // not interleaved: every other page is a dirty one
        var before = rig.Tokens();
        var dirty = before.Values.Where(p => rig.Pages.Test(p, PG.Dirty)).ToHashSet();
        long dirtied = rig.VmStat.Global(ZoneStat.NrDirtied), nrDirty = rig.VmStat.Global(ZoneStat.NrDirty);

        rig.Sim.Compact();

        var after = rig.Tokens();
        long movedDirty = before.Count(kv => dirty.Contains(kv.Value) && after[kv.Key] != kv.Value);
        Assert.That(movedDirty, Is.Positive, "precondition: compaction moved dirty page-cache pages");
        Assert.That(rig.VmStat.Global(ZoneStat.NrDirtied) - dirtied, Is.EqualTo(counted ? movedDirty : 0));
        Assert.That(rig.VmStat.Global(ZoneStat.NrDirty), Is.EqualTo(nrDirty));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
