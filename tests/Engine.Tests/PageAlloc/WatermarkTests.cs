using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// v3.16 __zone_watermark_ok, worked by hand on a zone whose free areas hold 100 order-0, 50 order-1 and 10
/// order-2 blocks: 100 + 100 + 40 = 240 free pages.
/// </summary>
public class WatermarkTests
{
    private Zone _zone = null!;

    [SetUp]
    public void SetUp()
    {
        var parts = Harness.Bare(4096);
        _zone = new Zone(0, "DMA", 0, 4096, parts.Lists, parts.Scheduler, MigrateTypes.V3_16);
        _zone.NrFree.Set(0, 100);
        _zone.NrFree.Set(1, 50);
        _zone.NrFree.Set(2, 10);
        _zone.Stat.Set((int)ZoneStat.NrFreePages, 240);
        _zone.LowmemReserve = [0, 200];
    }

    // order 2, mark 40: 240-3 = 237 > 40; -100 = 137 > 20; -100 = 37 > 10.
    [TestCase(2, 40, ExpectedResult = true)]
    // order 3, mark 40: 233 > 40; 133 > 20; 33 > 10; 33-40 = -7 ≤ 5.
    [TestCase(3, 40, ExpectedResult = false)]
    // order 2, mark 80: 237 > 80; 137 > 40; 37 ≤ 20? no, 37 > 20.
    [TestCase(2, 80, ExpectedResult = true)]
    // order 2, mark 76: 237 > 76; 137 > 38; 37 ≤ 19? no: true. Mark 160: 237 > 160; 137 ≤ 80? no; 37 ≤ 40: false.
    [TestCase(2, 160, ExpectedResult = false)]
    // order 0: free must exceed the mark itself.
    [TestCase(0, 239, ExpectedResult = true)]
    [TestCase(0, 240, ExpectedResult = false)]
    public bool ZoneWatermarkOk_v316_WorkedExamples(int order, long mark) =>
        BuddyAllocator.ZoneWatermarkOk(_zone, order, mark, 0, 0);

    [TestCase(39, ExpectedResult = true)]  // 240 > 39 + 200
    [TestCase(40, ExpectedResult = false)] // 240 ≤ 40 + 200
    public bool ZoneWatermarkOk_v316_AddsLowmemReserveOfTheClasszone(long mark) =>
        BuddyAllocator.ZoneWatermarkOk(_zone, 0, mark, 1, 0);

    // mark 100: ALLOC_HIGH min -= 50 → 50; ALLOC_HARDER min -= 25 → 75; both: 50 - 12 = 38.
    [TestCase(AllocFlags.High, 51, ExpectedResult = true)]
    [TestCase(AllocFlags.High, 50, ExpectedResult = false)]
    [TestCase(AllocFlags.Harder, 76, ExpectedResult = true)]
    [TestCase(AllocFlags.Harder, 75, ExpectedResult = false)]
    [TestCase(AllocFlags.High | AllocFlags.Harder, 39, ExpectedResult = true)]
    [TestCase(AllocFlags.High | AllocFlags.Harder, 38, ExpectedResult = false)]
    public bool ZoneWatermarkOk_v316_AllocHighAndHarderLowerTheMin(int allocFlags, long freePages) =>
        BuddyAllocator.ZoneWatermarkOk(_zone, 0, 100, 0, allocFlags, freePages);
}
