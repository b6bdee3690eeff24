using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>drivers/virtio/virtio_balloon.c (v3.16 / v3.18 / v4.5) and the host's ledger, with nothing racing.</summary>
public class VirtioBalloonTests
{
    [Test]
    public void InflateDeflate_HostLedgerEqualsGuestBalloon_WhenNothingRaces(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design, memoryMib: 32);
        Assert.That(rig.Sim.BalloonInflate(3), Is.EqualTo(768));
        AssertLedgersEqual(rig, 768);
        Assert.That(rig.Sim.BalloonDeflate(1.25), Is.EqualTo(320));
        AssertLedgersEqual(rig, 448);
        Assert.That(rig.Sim.BalloonDeflate(448 / 256.0), Is.EqualTo(448));
        AssertLedgersEqual(rig, 0);
        Assert.That(rig.Sim.Reports, Is.Empty, "the balloon and page-state checks ran after every operation");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonInflate), Is.EqualTo(768));
        Assert.That(rig.VmStat.Event(VmEvent.BalloonDeflate), Is.EqualTo(768));
    }

    /// <summary>
    /// release_pages_by_pfn's order: v3.16 frees each deflated page (balloon_page_free) and then counts it back into the
    /// zone's managed pages; v3.18 and v4.5 count it first. Another CPU looking at managed_pages when the free takes
    /// zone-&gt;lock sees the page not yet managed in v3.16, managed already from v3.18.
    /// </summary>
    [TestCase("legacy", false)]
    [TestCase("redesign", true)]
    [TestCase("fixed", true)]
    public void ReleasePagesByPfn_CountsTheManagedPageAfterTheFreeInV3_16Only(string design, bool countedFirst)
    {
        var rig = new BalloonRig(design, memoryMib: 32);
        rig.Driver.FillBalloon(1);
        int page = rig.BalloonList()[0];
        var zone = rig.Get<Node>().ZoneOf(page);
        long ballooned = zone.ManagedPages;
        long seen = -1;
        var tasks = new[]
        {
            new SimTask(0, 0, "deflate", () => rig.Driver.LeakBalloon(1)),
            new SimTask(1, 1, "observer", () => seen = zone.ManagedPages),
        };
        var scheduler = rig.Get<Scheduler>();
        rig.Sim.RunKernelPaths("race", tasks, new SwitchAfterPoint(scheduler, zone.Lock.Name));

        Assert.That(seen - ballooned, Is.EqualTo(countedFirst ? 1 : 0));
        Assert.That(zone.ManagedPages, Is.EqualTo(ballooned + 1), "counted back in the end either way");
    }

    [Test]
    public void BalloonBesideWorkload_InflateFreeDeflate_NoFindingAndWorkloadPagesUntouched(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design, memoryMib: 64);
        rig.Sim.WorkloadAnon(16);
        rig.Sim.WorkloadFile(8);
        rig.Sim.BalloonInflate(20);
        rig.Sim.WorkloadFree(0.5, "interleave", 1);
        rig.Sim.BalloonInflate(8);
        rig.Sim.BalloonDeflate(28);
        Assert.That(rig.Sim.BalloonPages, Is.Zero);
        Assert.That(rig.Sim.HostBallooned, Is.Zero);
        Assert.That(rig.Sim.PageMap().Count(k => k == (byte)PageKind.Balloon), Is.Zero);
        Assert.That(rig.Sim.PageMap().Count(k => k == (byte)PageKind.Anon), Is.EqualTo(16 * 256 / 2));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void AdjustManagedPageCount_FillLowersLeakRestoresManagedPages(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design);
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);
        rig.Driver.Inflate(300);
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed - 300));
        rig.Driver.Deflate(120);
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed - 180));
        rig.Driver.Deflate(180);
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed));
    }

    [Test]
    public void FillBalloonLeakBalloon_MoveAtMost256PfnsPerCall([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design);
        Assert.That(rig.Driver.FillBalloon(1000), Is.EqualTo(VirtioBalloon.MaxPfns));
        Assert.That(rig.Host.Ballooned, Is.EqualTo(256));
        Assert.That(rig.Driver.LeakBalloon(1000), Is.EqualTo(VirtioBalloon.MaxPfns));
        Assert.That(rig.Host.Ballooned, Is.Zero);
    }

    [Test]
    public void FillBalloon_OutOfPuff_StopsWhenEveryZoneIsAtItsMinWatermark([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design);
        long inflatable = rig.Driver.InflatablePages();
        Assert.That(rig.Driver.Inflate(inflatable + 100), Is.EqualTo(inflatable));
        Assert.That(rig.Driver.InflatablePages(), Is.Zero);
        Assert.That(rig.Host.Ballooned, Is.EqualTo(inflatable));
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void VirtballoonMigratepage_BalloonLockHeld_ReturnsEAgainAndChangesNothing(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design);
        rig.Driver.FillBalloon(1);
        int p = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        int newpage = rig.AllocTarget();
        rig.Driver.BalloonLock.Lock(); // fill or leak in progress
        Assert.That(rig.Driver.Migratepage(newpage, p, MigrateMode.Async), Is.EqualTo(MigrateRc.EAgain));
        rig.Driver.BalloonLock.Unlock();
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
        Assert.That(rig.Pages.Count[newpage], Is.EqualTo(1));
        Assert.That(rig.Host.IsBallooned(p) && !rig.Host.IsBallooned(newpage), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.Zero);
    }

    [Test]
    public void BalloonInflate_MoreThanAllocatableAboveMinWatermark_ThrowsNamingMibAndChangesNothing(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = new BalloonRig(design);
        double max = rig.Driver.InflatablePages() / 256.0;
        var before = rig.Sim.FreeBlocks();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.BalloonInflate(max + 1));
        Assert.That(e!.ParamName, Is.EqualTo("mib"));
        Assert.That(e.Message, Does.Contain("mib must be in [0, "));
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.BalloonInflate(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.BalloonInflate(double.NaN));
        Assert.That(rig.Sim.FreeBlocks(), Is.EqualTo(before));
        Assert.That(rig.Sim.BalloonPages, Is.Zero);
        Assert.That(rig.Sim.HistoryOps, Is.EqualTo(new[] { "boot" }));
    }

    [Test]
    public void BalloonDeflate_MoreThanTheBalloonHolds_ThrowsNamingMibAndChangesNothing()
    {
        var rig = new BalloonRig("redesign");
        rig.Sim.BalloonInflate(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.BalloonDeflate(1.5));
        Assert.That(e!.ParamName, Is.EqualTo("mib"));
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(256));
        Assert.That(rig.Sim.HostBallooned, Is.EqualTo(256));
    }

    [Test]
    public void Host_InflateOfBallooned_DeflateOfUnballooned_AreHostMismatch()
    {
        var rig = new BalloonRig("legacy");
        rig.Host.Receive(VirtQueue.Inflate, [7, 8]);
        rig.Host.Receive(VirtQueue.Inflate, [8]);
        rig.Host.Receive(VirtQueue.Deflate, [9]);
        Assert.That(rig.Count(ReportKind.HostMismatch), Is.EqualTo(2));
        Assert.That(rig.Host.Ballooned, Is.EqualTo(2));
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Pfn), Is.EqualTo(new long[] { 8, 9 }));
    }

    private static void AssertLedgersEqual(BalloonRig rig, long pages)
    {
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(pages));
        Assert.That(rig.Sim.HostBallooned, Is.EqualTo(pages));
        var listed = rig.BalloonList();
        Assert.That(listed, Has.Count.EqualTo(pages));
        Assert.That(listed.All(rig.Host.IsBallooned), Is.True);
        Assert.That(listed.All(p => rig.Pages.Kind[p] == (byte)PageKind.Balloon), Is.True);
    }
}
