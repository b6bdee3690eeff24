using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// VIRTIO_BALLOON_F_DEFLATE_ON_OOM: virtballoon_oom_notify (v3.19–5.1: fixed, movable) and 6.1 virtio_balloon_oom_notify on the v3.16 OOM
/// notifier chain (out_of_memory: freed &gt; 0 → no kill). Each OOM leaks 256 pages from the balloon; the kill comes
/// once the balloon is empty. Off (the default, QEMU's deflate-on-oom=off) nothing changes.
/// </summary>
public class DeflateOnOomTests
{
    private const int OomNrPages = 256;

    public static readonly string[] WithTheFeature = ["fixed", "movable", "v6.1"];

    /// <summary>The drivers whose leak_balloon stops at what the balloon holds (v4.8+).</summary>
    public static readonly string[] LeakCapped = ["movable", "v6.1"];

    /// <summary>Two processes (8 and 32 MiB) on a 64 MiB guest, then a balloon of <paramref name="balloonMib"/>.</summary>
    private static PressureRig Guest(string design, bool deflateOnOom, double balloonMib)
    {
        var rig = new PressureRig(design: design, deflateOnOom: deflateOnOom);
        rig.Sim.WorkloadAnon(8);
        rig.Sim.WorkloadAnon(32);
        Assert.That(rig.Sim.BalloonInflate(balloonMib), Is.EqualTo((long)(balloonMib * 256)));
        return rig;
    }

    private static void AssertHostLedgerAgrees(PressureRig rig)
    {
        Assert.That(rig.Sim.HostBallooned + rig.Sim.BalloonUntoldPages, Is.EqualTo(rig.Sim.BalloonPages), "host ledger + untold == balloon");
        Assert.That(rig.Get<Engine.Host.BalloonHost>().ActualPages, Is.EqualTo(rig.Sim.BalloonPages), "update_balloon_size after each leak");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [TestCaseSource(nameof(WithTheFeature))]
    public void OutOfMemory_DeflateOnOom_LeaksTheBalloon256PagesAtATime_InsteadOfKilling(string design)
    {
        var rig = Guest(design, deflateOnOom: true, balloonMib: 12);
        long deflatesBefore = rig.Event(VmEvent.BalloonDeflate);

        long got = rig.Sim.WorkloadAnon(16); // more than is free: OOM, several times

        long deflated = rig.Event(VmEvent.BalloonDeflate) - deflatesBefore;
        Assert.That(got, Is.EqualTo(16 * 256), "each OOM gave pages back, the fault went on");
        Assert.That(rig.Event(VmEvent.OomKill), Is.Zero, "no kill while the balloon has pages");
        Assert.That(deflated, Is.GreaterThan(0));
        Assert.That(deflated % OomNrPages, Is.Zero, "whole 256-page leaks, one per OOM");
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(12 * 256 - deflated).And.GreaterThan(0));
        Assert.That(rig.Processes.All.Select(p => p.Exited), Is.All.False);
        AssertHostLedgerAgrees(rig);
    }

    [TestCaseSource(nameof(LeakCapped))]
    public void OutOfMemory_DeflateOnOom_KillsAsBefore_OnceTheBalloonIsEmpty(string design)
    {
        var rig = Guest(design, deflateOnOom: true, balloonMib: 2);

        rig.Sim.WorkloadAnon(24);

        Assert.That(rig.Sim.BalloonPages, Is.Zero, "the notifier emptied the balloon first");
        Assert.That(rig.Event(VmEvent.BalloonDeflate), Is.EqualTo(2 * 256));
        Assert.That(rig.Event(VmEvent.OomKill), Is.EqualTo(1), "then freed == 0: select_bad_process and a kill");
        Assert.That(rig.Processes.All[1].Exited, "the 32 MiB process, as without a balloon");
        Assert.That(rig.Sim.Dmesg(), Does.Match(@"Out of memory: Kill(ed)? process 1001 \(anon\)"), "v3.16's or 6.1's kill line");
        AssertHostLedgerAgrees(rig);
    }

    /// <summary>
    /// The notifier asks leak_balloon for 256 pages whatever the balloon holds; v4.8's and 6.1's leak_balloon take no
    /// more than it has ("We can't release more pages than taken"), so the last leak of a 384-page balloon gets 128
    /// and balloon_page_dequeue never reaches its "balloon pages lost" BUG().
    /// </summary>
    [TestCaseSource(nameof(LeakCapped))]
    public void OutOfMemory_DeflateOnOom_LastLeakOfABalloonBelow256Pages_TakesWhatIsLeft(string design)
    {
        var rig = Guest(design, deflateOnOom: true, balloonMib: 1.5);

        rig.Sim.WorkloadAnon(24);

        Assert.That(rig.Sim.BalloonPages, Is.Zero);
        Assert.That(rig.Event(VmEvent.BalloonDeflate), Is.EqualTo(384));
        AssertHostLedgerAgrees(rig);
    }

    /// <summary>
    /// v4.5's leak_balloon (the fixed design's) has no such cap: the second OOM's leak of a 384-page balloon takes the
    /// last 128 pages and asks balloon_page_dequeue for a 129th, which finds the list empty with nothing isolated:
    /// BUG() "balloon pages lost" (v4.5 balloon_compaction.c), reported as a vm_bug. (So does any OOM once the balloon
    /// is empty: the notifier still asks for 256.)
    /// </summary>
    [Test]
    public void OutOfMemory_DeflateOnOom_v4_5_LastLeakOfABalloonBelow256Pages_HitsBalloonPagesLostBug()
    {
        var rig = Guest("fixed", deflateOnOom: true, balloonMib: 1.5);

        rig.Sim.WorkloadAnon(24);

        Assert.That(rig.Sim.BalloonPages, Is.Zero);
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Kind), Does.Contain(Engine.Sanitizers.ReportKind.VmBug));
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Message), Has.Some.Contains("balloon pages lost"));
    }

    [TestCaseSource(nameof(WithTheFeature))]
    public void OutOfMemory_WithoutDeflateOnOom_KillsWhileTheBalloonStaysFull(string design)
    {
        var rig = Guest(design, deflateOnOom: false, balloonMib: 12);

        rig.Sim.WorkloadAnon(16);

        Assert.That(rig.Event(VmEvent.OomKill), Is.EqualTo(1), "v3.19–5.1: the notifier returns at once; 6.1: none registered");
        Assert.That(rig.Event(VmEvent.BalloonDeflate), Is.Zero);
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(12 * 256));
        AssertHostLedgerAgrees(rig);
    }

    [TestCase("fixed", false, 1024)]
    [TestCase("fixed", true, 0)]
    [TestCase("movable", false, 1024)]
    [TestCase("movable", true, 0)]
    [TestCase("v6.1", false, 1024)]
    [TestCase("v6.1", true, 0)]
    public void FillBalloon_v4_5_AdjustsManagedPagesOnlyWithoutDeflateOnOom(string design, bool deflateOnOom, long managedDrop)
    {
        var rig = new PressureRig(design: design, deflateOnOom: deflateOnOom);
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);

        rig.Sim.BalloonInflate(4);
        Assert.That(managed - rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managedDrop));

        rig.Sim.BalloonDeflate(4);
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed), "release_pages_balloon gives back what fill took");
    }

    [Test]
    public void BalloonInflate_DeflateOnOom_RangeLeavesOutWhatTheBalloonHolds()
    {
        var on = new PressureRig(design: "movable", deflateOnOom: true);
        var off = new PressureRig(design: "movable");
        on.Sim.BalloonInflate(8);
        off.Sim.BalloonInflate(8);

        double Limit(PressureRig rig)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.BalloonInflate(64))!;
            return double.Parse(e.Message[(e.Message.IndexOf(", ", StringComparison.Ordinal) + 2)..e.Message.IndexOf(']')],
                System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.That(Limit(on), Is.EqualTo(Limit(off)), "a balloon still in managed_pages is not inflatable twice");
    }

    [TestCase("legacy")]
    [TestCase("redesign")]
    public void Create_DeflateOnOom_OnADriverBeforeV3_19_NamesTheOptionAndTheDesignsThatHaveIt(string design)
    {
        var options = new SimulationOptions { MemoryMib = 16, Design = KernelDesign.Parse(design), DeflateOnOom = true };
        var e = Assert.Throws<ArgumentException>(() => Simulation.Create(options))!;
        Assert.That(e.ParamName, Is.EqualTo("deflate_on_oom"));
        Assert.That(e.Message, Does.Contain($"design {design} has no such setting; the designs that have it: fixed, movable, v6.1"));
    }
}
