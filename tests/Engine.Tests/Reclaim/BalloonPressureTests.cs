using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>The balloon thread against a host target under memory pressure (docs/kernel/reclaim-v3.16.md §10).</summary>
public class BalloonPressureTests
{
    [Test]
    public void BalloonThread_v3_16_OutOfPuff_RetriesEvery204MsAtHz250_EachAfterOneDirectReclaim()
    {
        var rig = new PressureRig(design: "legacy");
        var zone = rig.Zone;
        rig.Sim.WorkloadAnon(rig.Get<Engine.PageAlloc.IBuddyAllocator>().AllocatablePages(Zone.WmarkLow) / 256.0 - 0.5); // unreclaimable: no swap
        rig.Sim.HostSetTarget(32);
        rig.Sim.Run(1);
        long start = rig.Sim.BalloonOutOfPuff;
        long stalls = rig.Event(VmEvent.Allocstall);
        double t0 = rig.Sim.ClockMs;

        rig.Sim.Run(1020);

        long puffs = rig.Sim.BalloonOutOfPuff - start;
        // msleep(200) = msecs_to_jiffies(200) + 1 = 51 jiffies at HZ=250 = 204 ms, then the thread retries at once.
        Assert.That(puffs, Is.EqualTo(5));
        Assert.That(rig.Event(VmEvent.Allocstall) - stalls, Is.EqualTo(puffs), "each failed page costs one round of direct reclaim");
        var times = rig.Get<Printk.KernelLog>().Lines.Where(l => l.Line.Contains("Out of puff")).Select(l => l.TimeNs).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).Distinct().ToList();
        Assert.That(gaps.All(g => g >= 204_000_000 && g < 205_000_000), Is.True, $"gaps {string.Join(", ", gaps)}; times {string.Join(", ", times)}");
        Assert.That(rig.Sim.BalloonPages, Is.LessThan(32 * 256));
        Assert.That(rig.Sim.Dmesg(), Does.Contain("virtio_balloon virtio0: Out of puff! Can't get 1 pages"));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
        Assert.That(t0, Is.GreaterThan(0));
    }

    [Test]
    public void BalloonTarget_ReclaimsPageCache_ToReachTheTarget_OverSimulatedTime()
    {
        var rig = new PressureRig(memoryMib: 128);
        rig.Sim.WorkloadFile(80);
        rig.Sim.WorkloadAnon(30);
        long cache = rig.Stat(ZoneStat.NrFilePages);

        rig.Sim.HostSetTarget(64);
        rig.Sim.Run(1000);

        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(64 * 256));
        Assert.That(rig.Sim.HostBallooned, Is.EqualTo(64 * 256), "every page told to the host");
        Assert.That(rig.Stat(ZoneStat.NrFilePages), Is.LessThan(cache), "page cache made room");
        Assert.That(rig.Sim.BalloonOutOfPuff, Is.Zero);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);

        rig.Sim.HostSetTarget(16);
        rig.Sim.Run(100);
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(16 * 256), "the thread deflates towards a lower target");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [TestCaseSource(typeof(TestDesigns), nameof(TestDesigns.Names))]
    public void EveryDesign_UnderPressure_BalloonReclaimCompaction_FixedHasNoFinding(string design)
    {
        var rig = new PressureRig(memoryMib: 128, swapMib: 64, design: design, ioLatencyMs: 2);
        rig.Sim.WorkloadFile(60, dirty: 0.2);
        rig.Sim.WorkloadAnon(60);
        rig.Sim.WorkloadFree(0.5, "interleave", 1);
        rig.Sim.HostSetTarget(48);
        rig.Sim.Run(2000);
        rig.Sim.WorkloadTouch(0.5, "all", "random", 3);
        rig.Sim.Compact();
        rig.Sim.Allocate(9, 16);
        rig.Sim.HostSetTarget(8);
        rig.Sim.Run(500);

        var kinds = rig.Sanitizer.Reports.Select(r => r.KindName).Distinct().ToList();
        if (design == "fixed") Assert.That(rig.Sanitizer.Reports, Is.Empty);
        else if (design == "legacy") Assert.That(kinds, Is.SubsetOf(new[] { "balloon_unmovable" }), "legacy's stranded balloon pages, nothing else");
        Assert.That(kinds, Has.None.EqualTo("data_corruption").And.None.EqualTo("accounting"));
    }
}
