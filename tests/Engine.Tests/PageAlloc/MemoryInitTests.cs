using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// v3.16 init_per_zone_wmark_min, __setup_per_zone_wmarks, setup_zone_migrate_reserve and
/// setup_per_zone_lowmem_reserve, against values worked out by hand:
/// min_free_kbytes = int_sqrt(16 · 4 · pages); pages_min = min_free_kbytes / 4;
/// zone min = pages_min · zone pages / all pages; low = min + min/4; high = min + min/2;
/// reserve pageblocks = min(2, roundup(min, 512) / 512).
/// </summary>
public class MemoryInitTests
{
    [TestCase(16, 512)]    // int_sqrt(16 ·   16384 kB) = int_sqrt(262144)   = 512
    [TestCase(64, 1024)]   // int_sqrt(16 ·   65536 kB) = int_sqrt(1048576)  = 1024
    [TestCase(128, 1448)]  // int_sqrt(16 ·  131072 kB) = int_sqrt(2097152)  = 1448 (1448² = 2096704)
    [TestCase(1024, 4096)] // int_sqrt(16 · 1048576 kB) = 4096
    [TestCase(4608, 8688)] // int_sqrt(16 · 4718592 kB) = int_sqrt(75497472) = 8688 (8689² = 75498721)
    public void InitPerZoneWmarkMin_v316_MinFreeKbytes(long memoryMib, int expected) =>
        Assert.That(MemoryInit.MinFreeKbytes(UnbootedNode(checked((int)(memoryMib * 256)))), Is.EqualTo(expected));

    // 16 MiB: pages_min 128, DMA has all 4096 pages.
    [TestCase(16, "DMA", 128, 160, 192, 1)]
    // 64 MiB: pages_min 256; DMA 256·4096/16384 = 64; DMA32 256·12288/16384 = 192.
    [TestCase(64, "DMA", 64, 80, 96, 1)]
    [TestCase(64, "DMA32", 192, 240, 288, 1)]
    // 128 MiB: pages_min 362; DMA 362·4096/32768 = 45; DMA32 362·28672/32768 = 316.
    [TestCase(128, "DMA", 45, 56, 67, 1)]
    [TestCase(128, "DMA32", 316, 395, 474, 1)]
    // From 512 MiB transparent hugepages stay on and khugepaged raises min_free_kbytes (set_recommended_min_free_kbytes):
    // 512 pages × zones × (2 + 3²), at most nr_free_buffer_pages / 20, then setup_per_zone_wmarks again.
    // 1 GiB: int_sqrt gives pages_min 1024 (DMA 16/20/24, DMA32 1008/1260/1512), then 512·2·11 = 11264 pages (below the
    // 5 % cap, 260608 / 20 = 13030): DMA 11264·4096/262144 = 176; DMA32 11264·258048/262144 = 11088 → two reserve pageblocks.
    [TestCase(1024, "DMA", 176, 220, 264, 1)]
    [TestCase(1024, "DMA32", 11088, 13860, 16632, 2)]
    // 4.5 GiB, three zones: 512·3·11 = 16896 pages (min_free_kbytes 67584) over 1179648 pages; DMA 58; DMA32
    // 16896·1044480/1179648 = 14960; Normal 16896·131072/1179648 = 1877 → two reserve pageblocks, not the one of int_sqrt's 241.
    [TestCase(4608, "DMA", 58, 72, 87, 1)]
    [TestCase(4608, "DMA32", 14960, 18700, 22440, 2)]
    [TestCase(4608, "Normal", 1877, 2346, 2815, 2)]
    // 511 MiB: THP off (totalram below 512 MiB), int_sqrt's 2893 kB: pages_min 723; DMA32 723·126720/130816 = 700.
    [TestCase(511, "DMA32", 700, 875, 1050, 2)]
    // 512 MiB: on, and the 5 % cap binds: int_sqrt's 2896 kB give high marks 33 (DMA) and 1051 (DMA32), so
    // nr_free_buffer_pages = 131072 − 33 − 1051 = 129988, / 20 = 6499 pages (25996 kB); DMA32 6499·126976/131072 = 6295.
    [TestCase(512, "DMA32", 6295, 7868, 9442, 2)]
    public void SetupPerZoneWmarks_v316_WatermarksAndReserveBlocks(long memoryMib, string zoneName, long min, long low, long high, int reserveBlocks)
    {
        var zone = new Harness(memoryMib).Zone(zoneName);

        Assert.That(zone.Watermark, Is.EqualTo(new[] { min, low, high }));
        int expectedReserve = 0;
        for (int pfn = zone.StartPfn; pfn < zone.EndPfn; pfn += Zone.PageblockNrPages)
        {
            bool reserve = zone.GetPageblockMigratetype(pfn) == MigrateType.Reserve;
            Assert.That(reserve, Is.EqualTo(expectedReserve < reserveBlocks), $"pageblock at pfn {pfn}: the first blocks of the zone are the reserve");
            if (reserve) expectedReserve++;
        }
        Assert.That(expectedReserve, Is.EqualTo(reserveBlocks));
    }

    // lowmem_reserve[j] of zone i = pages of zones i+1..j / sysctl_lowmem_reserve_ratio[i] (256 for DMA and DMA32).
    [TestCase(64, "DMA", new long[] { 0, 48 })]              // 12288 / 256
    [TestCase(128, "DMA", new long[] { 0, 112 })]            // 28672 / 256
    [TestCase(1024, "DMA", new long[] { 0, 1008 })]          // 258048 / 256
    [TestCase(4608, "DMA", new long[] { 0, 4080, 4592 })]    // 1044480 / 256; (1044480 + 131072) / 256
    [TestCase(4608, "DMA32", new long[] { 0, 0, 512 })]      // 131072 / 256
    [TestCase(4608, "Normal", new long[] { 0, 0, 0 })]
    public void SetupPerZoneLowmemReserve_v316(long memoryMib, string zoneName, long[] expected) =>
        Assert.That(new Harness(memoryMib).Zone(zoneName).LowmemReserve, Is.EqualTo(expected));

    [TestCase(64L, 128)]            // int_sqrt(16 · 256 kB) = 64, raised to 128
    [TestCase(100_000_000L, 65536)] // int_sqrt(16 · 400000000 kB) = 80000, lowered to 65536
    public void InitPerZoneWmarkMin_v316_ClampsTo128And65536(long managedPages, int expected)
    {
        var node = UnbootedNode(64);
        node.Zones[0].ManagedPages = managedPages;

        Assert.That(MemoryInit.MinFreeKbytes(node), Is.EqualTo(expected));
    }

    [Test]
    public void InitPerZoneWmarkMin_v316_LowmemKbytesCountsOnlyPagesAboveTheHighWatermark()
    {
        var h = new Harness(64);
        // After boot the high watermarks are 96 + 288: nr_free_buffer_pages = 16384 - 384 = 16000 → int_sqrt(16 · 64000) = 1011.
        Assert.That(MemoryInit.MinFreeKbytes(h.Node), Is.EqualTo(1011));
    }

    /// <summary>A node as it is before init_per_zone_wmark_min runs: watermarks still 0.</summary>
    private static Node UnbootedNode(int nrPages)
    {
        var parts = Harness.Bare(nrPages);
        return new Node(parts.Pages, parts.Lists, parts.Scheduler, MigrateTypes.V3_16, new Engine.Mm.V3_16.LruListsV3_16());
    }
}
