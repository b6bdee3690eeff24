using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// throttle_vm_writeout (v3.16 mm/page-writeback.c, called at the end of shrink_lruvec until 4.8): reclaim waits in
/// congestion_wait(HZ/10) rounds while more pages are under writeback than the dirty limit — the larger of
/// global_dirty_limits' and the one page_writeback_init left at boot — plus a tenth.
/// </summary>
public class ThrottleVmWriteoutTests
{
    /// <summary>congestion_wait's HZ/10 at the default HZ (250): 25 jiffies of 4 ms.</summary>
    private const long Hz10Ns = 100_000_000;

    /// <summary>A 64 MiB guest with 40 MiB of dirty page cache and <paramref name="underWriteback"/> of it being written (250 ms a write).</summary>
    private static PressureRig Guest(string design, int underWriteback)
    {
        var rig = new PressureRig(64, design: design, ioLatencyMs: 250);
        rig.Sim.WorkloadFile(40, dirty: 1);
        rig.Get<Writeback>().WakeupFlusherThreads(underWriteback);
        Assume.That(rig.Stat(ZoneStat.NrWriteback), Is.EqualTo(underWriteback), "precondition: the writes are in flight");
        return rig;
    }

    private static (int Rounds, long WaitedNs) Throttle(PressureRig rig, Gfp gfp)
    {
        int rounds = 0;
        long start = rig.Scheduler.NowNs;
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rounds = rig.Get<Writeback>().ThrottleVmWriteout(gfp))], null);
        return (rounds, rig.Scheduler.NowNs - start);
    }

    [Test]
    public void BootDirtyLimit_IsTwentyPercentOfTheManagedPagesAllFree()
    {
        var rig = new PressureRig(64, design: "legacy");
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);
        Assert.That(rig.Get<Writeback>().BootDirtyLimit, Is.EqualTo(20 * (managed + 1) / 100));
    }

    [Test]
    public void AboveTheLimit_WaitsInHz10RoundsUntilTheWritesComplete()
    {
        var rig = Guest("legacy", 5000); // the limit: 20 % of 16,384 pages + a tenth, about 3,600
        var (rounds, waited) = Throttle(rig, Gfp.Kernel);
        Assert.That(rounds, Is.EqualTo(3), "writes complete 250 ms in: the third HZ/10 wait is the last");
        Assert.That(waited, Is.GreaterThanOrEqualTo(3 * Hz10Ns));
        Assert.That(rig.Stat(ZoneStat.NrWriteback), Is.Zero);
    }

    [Test]
    public void AboveTheLimit_WithoutGfpIo_WaitsOneRoundOnly()
    {
        var rig = Guest("legacy", 5000);
        var (rounds, _) = Throttle(rig, Gfp.Kernel & ~Gfp.Io);
        Assert.That(rounds, Is.EqualTo(1));
        Assert.That(rig.Stat(ZoneStat.NrWriteback), Is.EqualTo(5000), "no write completed in 100 ms");
    }

    [Test]
    public void BelowTheLimit_DoesNotWait()
    {
        var rig = Guest("legacy", 3000);
        var (rounds, waited) = Throttle(rig, Gfp.Kernel);
        Assert.That(rounds, Is.Zero);
        Assert.That(waited, Is.LessThan(Hz10Ns));
    }

    /// <summary>v3.16's shrink_lruvec throttles; 6.1's node reclaim has no throttle_vm_writeout (4.8 removed it).</summary>
    [TestCase("legacy", true)]
    [TestCase("v6.1", false)]
    public void DirectReclaim_AboveTheLimit_WaitsForTheWrites_v3_16Only(string design, bool throttled)
    {
        var rig = Guest(design, 5000);
        long start = rig.Scheduler.NowNs;
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rig.Get<Engine.Reclaim.IReclaim>().TryToFreePages(0, Gfp.Kernel))], null);
        long waited = rig.Scheduler.NowNs - start;
        if (throttled) Assert.That(waited, Is.GreaterThanOrEqualTo(3 * Hz10Ns));
        else Assert.That(waited, Is.LessThan(Hz10Ns));
    }
}
