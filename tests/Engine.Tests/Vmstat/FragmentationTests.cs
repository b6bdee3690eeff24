using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Vmstat;

/// <summary>
/// v3.16 mm/vmstat.c fill_contig_page_info, __fragmentation_index and unusable_free_index, against values
/// worked out by hand (kernel-semantics §3.3–3.5), and the "%d.%03d" debugfs printing.
/// </summary>
public class FragmentationTests
{
    private static Fragmentation.ContigPageInfo Info(int suitableOrder, params (int Order, long Blocks)[] free)
    {
        var nrFree = new long[11];
        foreach (var (order, blocks) in free) nrFree[order] = blocks;
        return Fragmentation.Fill(nrFree, suitableOrder);
    }

    [Test]
    public void FillContigPageInfo_v316()
    {
        // 3 order-0 + 2 order-2 + 1 order-5 = 3 + 8 + 32 = 43 pages in 6 blocks; at order 2: 2 + (1 << 3) = 10 suitable.
        Assert.That(Info(2, (0, 3), (2, 2), (5, 1)), Is.EqualTo(new Fragmentation.ContigPageInfo(43, 6, 10)));
    }

    // 10 000 order-0 pages, order 9: 10 000 000 / 512 = 19 531; (1000 + 19 531) / 10 000 = 2; 1000 - 2 = 998.
    [TestCase(9, 0, 10_000, ExpectedResult = 998)]
    // four order-8 blocks: 1 024 000 / 512 = 2000; 3000 / 4 = 750; 250.
    [TestCase(9, 8, 4, ExpectedResult = 250)]
    // two order-8 blocks: 512 000 / 512 = 1000; 2000 / 2 = 1000; 0.
    [TestCase(9, 8, 2, ExpectedResult = 0)]
    // one order-8 block: 256 000 / 512 = 500; 1500 / 1 = 1500; 1000 - 1500 wraps as u64 and returns -500 as int.
    [TestCase(9, 8, 1, ExpectedResult = -500)]
    // a suitable block exists: the allocation would succeed.
    [TestCase(9, 9, 1, ExpectedResult = -1000)]
    [TestCase(9, 10, 1, ExpectedResult = -1000)]
    // no free block at all.
    [TestCase(9, 0, 0, ExpectedResult = 0)]
    public int FragmentationIndex_v316_WorkedExamples(int order, int blockOrder, long blocks) =>
        Fragmentation.Index(order, Info(order, (blockOrder, blocks)));

    // 100 order-0 + one order-9 block = 612 pages.
    [TestCase(9, ExpectedResult = 163)]  // (612 - 512) · 1000 / 612 = 163
    [TestCase(3, ExpectedResult = 163)]  // the order-9 block is 64 suitable order-3 blocks: (612 - 512) · 1000 / 612
    [TestCase(0, ExpectedResult = 0)]    // every free page serves order 0
    [TestCase(10, ExpectedResult = 1000)] // nothing serves order 10
    public int UnusableFreeIndex_v316_WorkedExamples(int order) =>
        Fragmentation.Unusable(order, Info(order, (0, 100), (9, 1)));

    [Test]
    public void UnusableFreeIndex_v316_NoFreePagesIs1000() =>
        Assert.That(Fragmentation.Unusable(0, Info(0)), Is.EqualTo(1000));

    [TestCase(-1000, ExpectedResult = "-1.000")]
    [TestCase(998, ExpectedResult = "0.998")]
    [TestCase(50, ExpectedResult = "0.050")]
    [TestCase(0, ExpectedResult = "0.000")]
    [TestCase(1000, ExpectedResult = "1.000")]
    // C's "%d.%03d" of -500/1000 = 0 and -500%1000 = -500; the minus sign counts towards the width of 3.
    [TestCase(-500, ExpectedResult = "0.-500")]
    [TestCase(-50, ExpectedResult = "0.-50")]
    [TestCase(-5, ExpectedResult = "0.-05")]
    public string ExtfragShowPrint_v316_FormatsLikeC(int index) => Fragmentation.Format(index);
}
