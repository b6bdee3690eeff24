using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Proc;
using NUnit.Framework;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// Free page reporting (6.1.78 mm/page_reporting.c) with the virtio balloon's reporting device (VIRTIO_BALLOON_F_REPORTING,
/// 6.1 virtio_balloon.c): the option <c>free_page_reporting</c> of the v6.1 design. The guests are of 256 MiB and more
/// but one: a zone is reported only with 32 pageblocks free above its low watermark, which a 64 MiB guest's DMA32 lacks.
/// </summary>
public class PageReportingTests
{
    private static RigV6_1 Guest(long memoryMib, double hostUsPerPage = 0) =>
        new(TestOptions.Classic(memoryMib, 1, 1, "v6.1") with { FreePageReporting = true, HostUsPerPage = hostUsPerPage });

    /// <summary>The free blocks of pageblock order and up in <paramref name="zone"/>, and how many of them carry PG_reported.</summary>
    private static (int Blocks, int Reported, long ReportedPages) BigFreeBlocks(RigV6_1 rig, Zone zone)
    {
        int blocks = 0, reported = 0;
        long pages = 0;
        for (int o = Zone.PageblockOrder; o < Zone.MaxOrder; o++)
            for (int mt = 0; mt < MigrateType.Count; mt++)
                foreach (int pfn in rig.FreeList(zone, o, mt))
                {
                    blocks++;
                    if (!rig.Pages.Test(pfn, PG.Reported)) continue;
                    reported++;
                    pages += 1L << o;
                }
        return (blocks, reported, pages);
    }

    /// <summary>Two blocks of <paramref name="order"/> allocated one after the other (buddies on a fresh guest), each page then held as a kernel page, as the whole-memory checks expect.</summary>
    private static (int First, int Second) AllocBuddies(RigV6_1 rig, int order)
    {
        int first = -1, second = -1;
        rig.RunOnCpu0(() =>
        {
            first = rig.Allocator.AllocPages(order, Gfp.Kernel);
            second = rig.Allocator.AllocPages(order, Gfp.Kernel);
            foreach (int block in new[] { first, second })
                for (int p = block; p < block + (1 << order); p++)
                {
                    rig.Pages.Count[p] = 1;
                    rig.Pages.Kind[p] = (byte)PageKind.Kernel;
                }
        });
        return (first, second);
    }

    [Test]
    public void PageReportingRegister_FirstPassTwoSecondsAfterTheProbe_Reports32BlocksAReport_MarksThemPgReported()
    {
        var rig = Guest(256, hostUsPerPage: 1);
        var host = rig.Get<BalloonHost>();
        var dma32 = rig.Zone("DMA32");
        int blocks = BigFreeBlocks(rig, dma32).Blocks;
        Assert.That(blocks, Is.InRange(33, 512), "a fresh 256 MiB guest: more than one report's worth, one budget");

        rig.Sim.Run(1999);
        Assert.That(host.Reports, Is.Zero, "PAGE_REPORTING_DELAY: the initial flush is scheduled 2 s after page_reporting_register");

        rig.Sim.Run(1);
        var (_, reported, reportedPages) = BigFreeBlocks(rig, dma32);
        Assert.That(reported, Is.EqualTo(blocks), "every free block of pageblock order and up reported (budget: 1 + 1 reports for up to 512 blocks)");
        Assert.That(host.Reports, Is.EqualTo((blocks + 31) / 32), "full scatterlists of 32, then the leftover");
        Assert.That(host.ReportedPages, Is.EqualTo(reportedPages));
        Assert.That(rig.Sim.ReportedFreePages, Is.EqualTo(reportedPages));
        Assert.That(BigFreeBlocks(rig, rig.Zone("DMA")).Reported, Is.Zero,
            "DMA (16 MiB) never passes the low watermark + 32 << pageblock_order test");
        double acks = host.Reports * BalloonHost.KickNs / 1e6 + reportedPages * 1e-3;
        Assert.That(rig.Sim.ClockMs, Is.InRange(2000 + acks, 2000 + acks + 0.01),
            "the kworker slept through each report until the host acknowledged it: 20 us a kick, host_us_per_page a frame");
        Assert.That(rig.Get<PageReporting>().Busy, Is.False, "blocks put back do not notify (FPI_SKIP_REPORT_NOTIFY): the device goes idle");
        int head = rig.FreeList(dma32, Zone.MaxOrder - 1, MigrateType.Movable)[0];
        Assert.That(rig.Sim.KPageFlags()[head] & (1UL << KPageFlags.Buddy | 1UL << KPageFlags.Uptodate), Is.EqualTo(1UL << KPageFlags.Buddy | 1UL << KPageFlags.Uptodate),
            "/proc/kpageflags shows a reported block's head as KPF_BUDDY and KPF_UPTODATE: PG_reported is PG_uptodate");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void PageReportingCycle_BudgetOfOneReportPer512BlocksPlusOne_LeavesTheRestForPassesTwoSecondsApart()
    {
        var rig = Guest(1024);
        var host = rig.Get<BalloonHost>();
        var dma32 = rig.Zone("DMA32");
        int blocks = BigFreeBlocks(rig, dma32).Blocks;
        Assert.That(blocks, Is.InRange(129, 512));

        rig.Sim.Run(2000);
        Assert.That(host.Reports, Is.EqualTo(2), "DIV_ROUND_UP(nr_free, 32 * 16) = 1: one report, the budget spent, one more");
        Assert.That(BigFreeBlocks(rig, dma32).Reported, Is.EqualTo(64));
        Assert.That(rig.Get<PageReporting>().Busy, Is.True, "the list left over requested another pass");

        rig.Sim.Run(2000);
        Assert.That(host.Reports, Is.EqualTo(4));
        Assert.That(BigFreeBlocks(rig, dma32).Reported, Is.EqualTo(128), "reported blocks are skipped, the next 64 reported");

        rig.Sim.Run(2000 * (blocks / 64 + 1));
        Assert.That(BigFreeBlocks(rig, dma32).Reported, Is.EqualTo(blocks));
        Assert.That(host.Reports, Is.EqualTo((blocks + 31) / 32));
        Assert.That(rig.Get<PageReporting>().Busy, Is.False);
    }

    [Test]
    public void PageReportingNotifyFree_OnlyAMergeToPageblockOrderRequestsAPass_AnAllocationClearsPgReported()
    {
        var rig = Guest(256);
        var host = rig.Get<BalloonHost>();
        var reporting = rig.Get<PageReporting>();
        var dma32 = rig.Zone("DMA32");
        rig.Sim.Run(2000);
        long reportsBefore = host.Reports, reportedBefore = rig.Sim.ReportedFreePages;
        Assert.That(reporting.Busy, Is.False);

        var (first, second) = AllocBuddies(rig, 8);
        Assert.That(second, Is.EqualTo(first ^ (1 << 8)), "the second order-8 block is the first one's buddy");
        int block = Math.Min(first, second) & ~((1 << (Zone.MaxOrder - 1)) - 1);
        Assert.That(rig.Pages.Test(block, PG.Reported), Is.False, "del_page_from_free_list cleared PG_reported of the reported block split");
        Assert.That(rig.Sim.ReportedFreePages, Is.EqualTo(reportedBefore - (1 << (Zone.MaxOrder - 1))),
            "the halves expand left on the lists are not reported");

        rig.Release(first, 8);
        Assert.That(reporting.Busy, Is.False, "an order-8 block whose buddy is in use: below page_reporting_order, no request");

        rig.Release(second, 8);
        Assert.That(reporting.Busy, Is.True, "the buddies merged up to pageblock order and beyond: a pass requested");
        Assert.That(dma32.FreePages, Is.GreaterThan(0));

        rig.Sim.Run(2000);
        Assert.That(host.Reports, Is.EqualTo(reportsBefore + 1));
        Assert.That(rig.Sim.ReportedFreePages, Is.EqualTo(reportedBefore), "the merged block reported again");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void PageReportingProcessZone_ZoneWithLessThan32PageblocksAboveItsLowWatermark_IsNotReported()
    {
        var rig = Guest(64);
        rig.Sim.Run(10_000);
        Assert.That(rig.Get<BalloonHost>().Reports, Is.Zero, "DMA32 has about 48 MiB free: below low + 64 MiB");
        Assert.That(rig.Get<PageReporting>().Busy, Is.False, "the pass found nothing to do and went idle");
    }

    /// <summary>
    /// page_reporting_order written to its module parameter after the probe (6.1's page_reporting_register would
    /// overwrite a value given at boot): order 5 lowers the zone's threshold to low + 32 &lt;&lt; 5 pages, so a 64 MiB
    /// guest's DMA32 is reported, and an order-5 block freed beside its buddy in use is reported too.
    /// </summary>
    [TestCase(null)]
    [TestCase(5)]
    public void PageReportingOrder_WrittenAfterTheProbe_ReportsSmallerBlocksInSmallerZones(int? order)
    {
        var rig = new RigV6_1(TestOptions.Classic(64, 1, 1, "v6.1") with { FreePageReporting = true, PageReportingOrder = order });
        Assert.That(rig.Get<PageReporting>().Order, Is.EqualTo(order ?? Zone.PageblockOrder));
        var (first, second) = AllocBuddies(rig, 5);
        Assert.That(second, Is.EqualTo(first ^ (1 << 5)));
        rig.Release(first, 5);

        rig.Sim.Run(2000);
        bool reported = rig.Pages.PageBuddy(first) && rig.Pages.PageOrder(first) == 5 && rig.Pages.Test(first, PG.Reported);
        Assert.That(reported, Is.EqualTo(order == 5), "the order-5 block, its buddy in use");
        Assert.That(rig.Get<BalloonHost>().Reports, order == 5 ? Is.Positive : Is.Zero,
            "DMA32 has about 48 MiB free: below low + 32 << 9 pages, above low + 32 << 5");
        Assert.That(rig.Sim.ReportedFreePages, Is.EqualTo(rig.Get<BalloonHost>().ReportedPages), "nothing reported was taken back");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// At page_reporting_order 0 single free pages are reported too; the per-cpu refill takes them off the order-0 list a
    /// run at a time, and each must lose PG_reported there, as del_page_from_free_list clears it page by page: a page
    /// allocated with it set is a bad page (PAGE_FLAGS_CHECK_AT_PREP; only the run's first page was cleared once).
    /// </summary>
    [Test]
    public void PageReportingOrder0_PerCpuRefillTakesReportedSinglePages_ClearsEachOnesPgReported()
    {
        var rig = new RigV6_1(TestOptions.Classic(64, 1, 1, "v6.1") with { FreePageReporting = true, PageReportingOrder = 0, PerCpuLists = true });
        rig.FragmentedAnon();
        rig.Sim.Run(2000);
        var singles = rig.FreeList(rig.Zone("DMA32"), 0, MigrateType.Movable);
        Assert.That(singles.Count(p => rig.Pages.Test(p, PG.Reported)), Is.GreaterThan(64),
            "order-0 holes reported (at the list's tail, behind those the budget left), more than a per-cpu refill's worth");

        rig.Sim.WorkloadAnon(singles.Count / 256.0);

        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void Snapshot_BeforeThePass_RestoredAndRunAgain_ReportsTheSame()
    {
        var rig = Guest(512);
        rig.Sim.Run(1000);
        var snapshot = rig.Sim.Snapshot();
        rig.Sim.Run(5000);
        long reports = rig.Sim.HostReports, reported = rig.Sim.ReportedFreePages;
        Assert.That(reports, Is.Positive);

        rig.Sim.Restore(snapshot);
        Assert.That((rig.Sim.HostReports, rig.Sim.ReportedFreePages), Is.EqualTo((0L, 0L)));
        rig.Sim.Run(5000);
        Assert.That((rig.Sim.HostReports, rig.Sim.ReportedFreePages), Is.EqualTo((reports, reported)));
    }
}
