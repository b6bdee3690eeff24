using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Proc;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Proc;

/// <summary>fs/proc/page.c stable_page_flags (v3.16; KPF_BALLOON from v3.18) on hand-set pages.</summary>
public class KPageFlagsTests
{
    private static (PageTable Pages, KPageFlags Kpf) Make(string design)
    {
        var pages = new PageTable(8);
        return (pages, new KPageFlags(pages, TestOptions.Classic(design: design)));
    }

    [Test]
    public void StablePageFlags_v3_16_CopiesEachExportedPgBitToItsKpfBit()
    {
        var (pages, kpf) = Make("legacy");
        (PG Pg, int Kpf)[] copied =
        [
            (PG.Locked, 0), (PG.Error, 1), (PG.Referenced, 2), (PG.Uptodate, 3), (PG.Dirty, 4), (PG.Lru, 5), (PG.Active, 6),
            (PG.Slab, 7), (PG.Writeback, 8), (PG.Reclaim, 9), (PG.SwapCache, 13), (PG.SwapBacked, 14), (PG.Head, 15),
            (PG.Tail, 16), (PG.Unevictable, 18), (PG.Reserved, 32), (PG.Mlocked, 33), (PG.MappedToDisk, 34),
            (PG.Private, 35), (PG.Private2, 36), (PG.OwnerPriv1, 37), (PG.Arch1, 38),
        ];
        foreach (var (pg, bit) in copied)
        {
            pages.Flags[1] = (uint)pg;
            Assert.That(kpf.Of(1), Is.EqualTo(1UL << bit), pg.ToString());
        }
    }

    [Test]
    public void StablePageFlags_PseudoFlags_MmapAnonBuddy()
    {
        var (pages, kpf) = Make("legacy");
        pages.MapCount[2] = 0;                                   // mapped once
        pages.Mapping[2] = MappingTable.PageMappingAnon | 4;     // an anon_vma
        pages.MapCount[3] = PageTable.PageBuddyMapcountValue;
        pages.MapCount[4] = 0;
        pages.Flags[4] = (uint)PG.Slab;                          // slab overloads _mapcount: no KPF_MMAP

        Assert.That(kpf.Of(2), Is.EqualTo((1UL << KPageFlags.Mmap) | (1UL << KPageFlags.Anon)));
        Assert.That(kpf.Of(3), Is.EqualTo(1UL << KPageFlags.Buddy));
        Assert.That(kpf.Of(4), Is.EqualTo(1UL << KPageFlags.Slab));
    }

    /// <summary>
    /// From 4.6 (the movable design's 4.8, v6.1) every page of a free block is KPF_BUDDY (is_free_buddy_page for a page
    /// with no references); v3.16 marks only the block's first page, the PageBuddy one.
    /// </summary>
    [TestCase("legacy", false)]
    [TestCase("fixed", false)]
    [TestCase("movable", true)]
    [TestCase("v6.1", true)]
    public void StablePageFlags_KpfBuddyOnEveryPageOfAFreeBlockFrom4_6(string design, bool tails)
    {
        var (pages, kpf) = Make(design);
        pages.SetPageOrder(4, 2); // a free order-2 block: PFNs 4-7

        ulong buddy = 1UL << KPageFlags.Buddy;
        Assert.That(kpf.Of(4), Is.EqualTo(buddy));
        Assert.That(new[] { 5, 6, 7 }.Select(kpf.Of), Is.All.EqualTo(tails ? buddy : 0UL));
        Assert.That(kpf.Of(3), Is.Zero, "outside the block");
        Assert.That(kpf.All(), Is.EqualTo(Enumerable.Range(0, 8).Select(kpf.Of).ToArray()));
    }

    /// <summary>From 4.10 PG_swapcache is PG_owner_priv_1, so a swap-cache page (in 6.1) also shows KPF_OWNER_PRIVATE.</summary>
    [TestCase("movable", false)]
    [TestCase("v6.1", true)]
    public void StablePageFlags_ASwapCachePageIsOwnerPrivateTooFrom4_10(string design, bool ownerPrivate)
    {
        var (pages, kpf) = Make(design);
        pages.Flags[1] = (uint)(PG.SwapCache | PG.SwapBacked);

        ulong expected = (1UL << KPageFlags.SwapCache) | (1UL << KPageFlags.SwapBacked) | (ownerPrivate ? 1UL << KPageFlags.OwnerPrivate : 0);
        Assert.That(kpf.Of(1), Is.EqualTo(expected));
    }

    /// <summary>From 4.18 a page that holds a page table is KPF_PGTABLE: a process's first fault's three tables, in 6.1 only.</summary>
    [TestCase("movable", false)]
    [TestCase("v6.1", true)]
    public void StablePageFlags_APageTablePageIsKpfPgtableFrom4_18(string design, bool pgtable)
    {
        var rig = Rig.Create(TestOptions.Classic(16, 1, 1, design));
        rig.Sim.WorkloadAnon(1);
        var kpf = rig.Get<KPageFlags>();
        int[] tables = Enumerable.Range(0, rig.Pages.NrPages).Where(p => rig.Pages.Kind[p] == (byte)PageKind.PageTable).ToArray();
        Assume.That(tables, Has.Length.EqualTo(3), "a PUD, a PMD and a PTE table");

        Assert.That(tables.Select(p => (kpf.Of(p) & (1UL << KPageFlags.Pgtable)) != 0), Is.All.EqualTo(pgtable));
        Assert.That(kpf.All().Count(u => (u & (1UL << KPageFlags.Pgtable)) != 0), Is.EqualTo(pgtable ? 3 : 0));
    }

    [TestCase("legacy", 0UL)]
    [TestCase("redesign", 1UL << 23)]
    [TestCase("fixed", 1UL << 23)]
    public void StablePageFlags_KpfBalloon_OnlyInKernelsWithPageBalloon(string design, ulong expected)
    {
        var (pages, kpf) = Make(design);
        pages.MapCount[5] = PageTable.PageBalloonMapcountValue;

        Assert.That(kpf.Of(5), Is.EqualTo(expected));
    }

    /// <summary>
    /// The whole-memory export (sim.kpageflags()) gives each page what <see cref="KPageFlags.Of"/> gives it, in every
    /// design, over pages of every kind: anon, file (some dirty), slab, balloon, free block heads and tails.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("redesign")]
    [TestCase("fixed")]
    [TestCase("movable")]
    [TestCase("v6.1")]
    public void All_IsEachPagesStablePageFlags(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        rig.Sim.WorkloadAnon(16);
        rig.Sim.WorkloadFile(8, 0.5);
        rig.Sim.WorkloadSlab(2);
        rig.Sim.BalloonInflate(8);
        rig.Sim.WorkloadFree(0.5, "random", 3);
        var kpf = rig.Get<KPageFlags>();

        ulong[] all = kpf.All();

        Assert.That(all, Has.Length.EqualTo(rig.Pages.NrPages));
        Assert.That(all.Distinct().Count(), Is.GreaterThanOrEqualTo(6), "pages of several kinds");
        for (int pfn = 0; pfn < all.Length; pfn++)
            if (all[pfn] != kpf.Of(pfn)) Assert.Fail($"pfn {pfn}: All() gives {all[pfn]:x}, Of() {kpf.Of(pfn):x}");
    }
}
