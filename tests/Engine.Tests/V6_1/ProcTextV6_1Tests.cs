using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The /proc text of the v6.1 design (6.1 mm/vmstat.c of 6.1.78: pagetypeinfo_showfree_print,
/// pagetypeinfo_showblockcount, vmstat_text, zoneinfo_show_print), and that the older designs keep theirs.
/// </summary>
public class ProcTextV6_1Tests
{
    private static Simulation Sim(long mib = 64, string design = "v6.1") => new SimRig(TestOptions.Classic(mib, 2, 1, design)).Sim;

    [Test]
    public void Pagetypeinfo_v6_1_HasTheMigratetypesOf61_HighAtomicAndCmaIncluded()
    {
        string text = Sim().Pagetypeinfo();
        string[] types = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"];
        Assert.That(text, Does.Contain($"{"Number of blocks type ",-23}" + string.Concat(types.Select(t => $"{t,12} ")) + "\n"));
        foreach (var t in types) Assert.That(text, Does.Contain($"Node    0, zone    DMA32, type {t,12} "));
        Assert.That(text, Does.Contain("Node 0, zone    DMA32            0           24            0            0            0            0 \n"));
        Assert.That(Sim(design: "legacy").Pagetypeinfo(), Does.Contain("Number of blocks type     Unmovable  Reclaimable      Movable      Reserve      Isolate \n"));
    }

    /// <summary>pagetypeinfo_showfree_print stops counting a free list at 100000 and prints "&gt;100000" (5.x+).</summary>
    [Test]
    public void Pagetypeinfo_v6_1_CapsAFreeListAt100000()
    {
        var rig = new RigV6_1(TestOptions.Classic(1024, 1, 1, "v6.1")).FragmentedAnon();
        string row = rig.Sim.Pagetypeinfo().Split('\n').Single(l => l.StartsWith("Node    0, zone    DMA32, type      Movable"));
        Assert.That(row, Does.StartWith("Node    0, zone    DMA32, type      Movable >100000 "));
    }

    [Test]
    public void Vmstat_v6_1_PrintsVmstatTextOf61InOrder()
    {
        var names = Sim().ProcVmstat().TrimEnd('\n').Split('\n').Select(l => l.Split(' ')[0]).ToList();
        Assert.That(names.Take(3), Is.EqualTo(new[] { "nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon" }));
        void InOrder(params string[] run) => Assert.That(names.Skip(names.IndexOf(run[0])).Take(run.Length), Is.EqualTo(run));
        InOrder("nr_free_cma", "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other", "nr_inactive_anon");
        InOrder("pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable", "pgalloc_device", "allocstall_dma");
        InOrder("compact_success", "compact_daemon_wake", "compact_daemon_migrate_scanned", "compact_daemon_free_scanned", "htlb_buddy_alloc_success");
        InOrder("thp_swpout_fallback", "balloon_inflate", "balloon_deflate", "balloon_migrate", "swap_ra");
        InOrder("zswpout", "direct_map_level2_splits", "direct_map_level3_splits", "nr_unstable");
        Assert.That(names[^1], Is.EqualTo("nr_unstable"), "vmstat_show: the deprecated counter after the last item (5.8)");
        Assert.That(Sim().ProcVmstat(), Does.EndWith("\ndirect_map_level3_splits 0\nnr_unstable 0\n"));
        Assert.That(names, Is.Unique);
        Assert.That(names, Has.None.EqualTo("nr_alloc_batch"), "v3.16's");
        Assert.That(names, Has.None.EqualTo("kcompactd_wake"), "KCOMPACTD_WAKE is printed as compact_daemon_wake");
    }

    /// <summary>
    /// extfrag_show_print (6.1, since 5.16): <c>"%2d.%03d "</c>, so 0.xxx indices gain a leading space; unusable_index
    /// keeps <c>"%d.%03d "</c>; the older designs print extfrag_index as v3.16 does.
    /// </summary>
    [Test]
    public void Extfrag_v6_1_PadsTheIntegerPartToTwoPlaces_UnusableIndexUnchanged()
    {
        var rig = new RigV6_1(TestOptions.Classic(64, 1, 1, "v6.1")).FragmentedAnon();
        var sim = rig.Sim;
        string dma32 = sim.ExtfragText().Split('\n').Single(l => l.Contains("DMA32"));
        var fields = dma32["Node 0, zone    DMA32 ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(fields, Has.Length.EqualTo(11));
        foreach (var (f, order) in fields.Select((f, o) => (f, o)))
        {
            int index = Fragmentation.ZoneIndex(rig.Zone("DMA32"), order);
            Assert.That(f, Is.EqualTo(Fragmentation.Format(index)), $"order {order}");
        }
        Assert.That(dma32, Does.Contain("  0."), "an index below 1000 printed \" 0.xxx\" after the separating space");
        Assert.That(sim.UnusableText(), Does.Not.Contain("  0."), "unusable_index: \"%d.%03d \"");
        Assert.That(new RigV6_1(TestOptions.Classic(64, 1, 1, "legacy")).FragmentedAnon().Sim.ExtfragText(), Does.Contain(" 0.").And.Not.Contain("  0."));
    }

    [Test]
    public void Vmstat_v3_16_StillWithoutTheKcompactdEvents()
    {
        string text = Sim(design: "fixed").ProcVmstat();
        Assert.That(text, Does.Not.Contain("compact_daemon"));
        Assert.That(text, Does.Contain("\ncompact_success 0\nhtlb_buddy_alloc_success 0\n"));
    }

    /// <summary>
    /// zoneinfo_show_print (6.1): every zone type, populated or not; per-node stats once, on the first populated zone;
    /// boost and cma lines; protection for all five zone types.
    /// </summary>
    [Test]
    public void Zoneinfo_v6_1_EveryZoneWithBoostCmaAndPerNodeStats()
    {
        string text = Sim().Zoneinfo();
        Assert.That(text, Does.StartWith("Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 0\n"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(text, "per-node stats"), Has.Count.EqualTo(1));
        Assert.That(text, Does.Contain("\n  pages free     ").And.Contain("\n        boost    0\n        min      ").And.Contain("\n        cma      0\n"));
        Assert.That(text, Does.Contain("Node 0, zone   Normal\n  pages free     0\n        boost    0\n        min      0\n"));
        Assert.That(text, Does.Contain("Node 0, zone  Movable\n").And.Contain("Node 0, zone   Device\n"));
        Assert.That(text, Does.Contain("        protection: (0, 0, 0, 0, 0)\n"));
        Assert.That(text, Does.Contain("\n      numa_hit     "));
        Assert.That(text, Does.Contain("\n  node_unreclaimable:  0\n  start_pfn:           4096\n"));
    }
}
