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
        var times = rig.Get<Engine.Printk.KernelLog>().Lines.Where(l => l.Line.Contains("Out of puff")).Select(l => l.TimeNs).ToList();
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

    [TestCase("redesign")]
    [TestCase("fixed")]
    public void BalloonThread_WokenWhileMigratepageWaitsForTheHostUnderBalloonLock_WaitsForTheMutex(string design)
    {
        // The balloon thread is still filling when the run ends, so its work timer is due at once; the THP
        // allocations' direct compaction migrates balloon pages, and virtballoon_migratepage sleeps in tell_host
        // under balloon_lock: the timer fires there. The thread must wait for the mutex (fill_balloon's mutex_lock),
        // not run into it: run to completion, nothing else could release it.
        var rig = new PressureRig(memoryMib: 128, design: design);
        rig.Sim.WorkloadFile(50);
        rig.Sim.WorkloadAnon(50);
        rig.Sim.WorkloadFree(0.5, "interleave", 1);
        rig.Sim.HostSetTarget(64);
        rig.Sim.Run(3);
        Assume.That(rig.Sim.BalloonPages, Is.LessThan(64 * 256), "the balloon is still filling");
        long migrated = rig.Event(VmEvent.BalloonMigrate);

        long got = rig.Sim.Allocate(9, 13); // the 14th of 16 fails here (with the page tables' pages in memory), the others succeed

        Assert.That(rig.Event(VmEvent.BalloonMigrate) - migrated, Is.GreaterThan(0), "compaction migrated balloon pages");
        Assert.That(got, Is.EqualTo(13));
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "no path cut short (vm_bug), no page left isolated");
        rig.Sim.Run(100);
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(64 * 256), "the thread went on to the target");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>A guest whose anonymous memory (no swap) leaves the balloon thread out of puff, asleep in fill_balloon.</summary>
    private static PressureRig OutOfPuffGuest(string design)
    {
        var rig = new PressureRig(design: design);
        rig.Sim.WorkloadAnon(rig.Get<Engine.PageAlloc.IBuddyAllocator>().AllocatablePages(Zone.WmarkLow) / 256.0 - 0.5);
        rig.Sim.HostSetTarget(32);
        while (rig.Sim.BalloonOutOfPuff == 0) rig.Sim.Run(1);
        return rig;
    }

    [TestCase("legacy")]
    [TestCase("fixed")]
    public void FillBalloon_v3_16_SleepsAfterOutOfPuffHoldingBalloonLock_TimeAndMigrationGoOnMeanwhile(string design)
    {
        var rig = OutOfPuffGuest(design);
        var driver = rig.Get<Engine.Virtio.VirtioBalloon>();
        double t0 = rig.Sim.ClockMs;

        rig.Sim.Run(10);

        Assert.That(rig.Sim.ClockMs - t0, Is.LessThan(10.5), "sim.run(10) returns after 10 ms, not after the 204 ms msleep");
        Assert.That(driver.BalloonLock.IsLocked, "v3.16 fill_balloon sleeps in msleep(200) holding balloon_lock");
        Assert.That(driver.Migratepage(0, 1, Engine.Migrate.MigrateMode.Sync), Is.EqualTo(Engine.Migrate.MigrateRc.EAgain),
            "virtballoon_migratepage's mutex_trylock fails: -EAGAIN, and migrate_pages retries later");
        long migrated = rig.Event(VmEvent.BalloonMigrate);
        rig.Sim.Compact();
        Assert.That(rig.Event(VmEvent.BalloonMigrate), Is.EqualTo(migrated), "no balloon page moves while the thread sleeps");
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "the batch not yet told to the host is no mismatch while the call sleeps; no page stays isolated");

        rig.Sim.Run(300);
        Assert.That(rig.Sim.BalloonOutOfPuff, Is.GreaterThanOrEqualTo(2), "it woke, told the host, dropped the lock and retried");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void SynchronousDeflate_WhileTheThreadSleepsHoldingBalloonLock_WaitsForItToWake()
    {
        var rig = OutOfPuffGuest("fixed");
        double slept = rig.Sim.ClockMs;
        long before = rig.Sim.BalloonPages;

        long deflated = rig.Sim.BalloonDeflate(0.5);

        Assert.That(deflated, Is.EqualTo(128));
        Assert.That(rig.Sim.ClockMs - slept, Is.InRange(150.0, 210.0), "mutex_lock waited out the thread's msleep(200)");
        Assert.That(rig.Sim.BalloonPages, Is.LessThan(before));
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "no path was cut short");
    }

    /// <summary>
    /// <see cref="OutOfPuffGuest"/> with 1 MiB ballooned first: 6.1's thread keeps the batch it was filling on its local
    /// list while it sleeps, so only pages of earlier calls are in the balloon then.
    /// </summary>
    private static PressureRig OutOfPuffGuestWithABalloon(string design)
    {
        var rig = new PressureRig(design: design);
        rig.Sim.BalloonInflate(1);
        rig.Sim.WorkloadAnon(rig.Get<Engine.PageAlloc.IBuddyAllocator>().AllocatablePages(Zone.WmarkLow) / 256.0 - 0.5);
        rig.Sim.HostSetTarget(33);
        while (rig.Sim.BalloonOutOfPuff == 0) rig.Sim.Run(1);
        return rig;
    }

    [Test]
    public void FillBalloon_v6_1_SleepsAfterOutOfPuffWithoutBalloonLock_MigrationSucceedsMeanwhile()
    {
        var rig = OutOfPuffGuestWithABalloon("v6.1");
        var driver = rig.Get<Engine.Virtio.VirtioBalloon>();
        double t0 = rig.Sim.ClockMs;
        long balloon = rig.Sim.BalloonPages;

        rig.Sim.Run(10);

        Assert.That(rig.Sim.ClockMs - t0, Is.LessThan(10.5), "sim.run(10) returns after 10 ms, not after the 204 ms msleep");
        Assert.That(driver.BalloonLock.IsLocked, Is.False, "6.1 fill_balloon sleeps in msleep(200) before mutex_lock(&vb->balloon_lock)");
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(balloon), "the pages allocated before the failure wait on the local list, not yet enqueued");
        Assert.That(rig.Sim.BalloonUntoldPages, Is.Zero, "nothing is in the balloon untold");
        rig.Sim.WorkloadFree(0.1, "interleave", 1); // holes above the balloon for compaction's free scanner
        long migrated = rig.Event(VmEvent.BalloonMigrate);
        rig.Sim.Compact();
        Assert.That(rig.Event(VmEvent.BalloonMigrate), Is.GreaterThan(migrated), "virtballoon_migratepage's mutex_trylock succeeds: balloon pages move while the thread sleeps");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);

        rig.Sim.Run(300);
        Assert.That(rig.Sim.BalloonOutOfPuff, Is.GreaterThanOrEqualTo(2), "it woke, enqueued and told the host, and retried");
        Assert.That(rig.Sim.HostBallooned, Is.EqualTo(rig.Sim.BalloonPages));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void FillBalloon_v3_16_InTheFixedDesign_SameGuestAsV6_1_NoBalloonPageMovesWhileTheThreadSleeps()
    {
        var rig = OutOfPuffGuestWithABalloon("fixed");
        var driver = rig.Get<Engine.Virtio.VirtioBalloon>();
        rig.Sim.Run(10);
        Assert.That(driver.BalloonLock.IsLocked, "v3.16 fill_balloon sleeps in msleep(200) holding balloon_lock");
        rig.Sim.WorkloadFree(0.1, "interleave", 1);
        long migrated = rig.Event(VmEvent.BalloonMigrate);
        rig.Sim.Compact();
        Assert.That(rig.Event(VmEvent.BalloonMigrate), Is.EqualTo(migrated), "every virtballoon_migratepage got -EAGAIN");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void FillBalloon_v6_1_AsleepAfterOutOfPuff_ASnapshotKeepsItsAllocatedBatch_AndWakesAsTheParentDoes()
    {
        var rig = OutOfPuffGuestWithABalloon("v6.1");
        var child = Simulation.FromSnapshot(Engine.Snapshots.SnapshotCodec.Decode(Engine.Snapshots.SnapshotCodec.Encode(rig.Sim.Snapshot())));

        rig.Sim.Run(300);
        child.Run(300);

        Assert.That(rig.Sim.BalloonOutOfPuff, Is.GreaterThanOrEqualTo(2));
        Assert.That(child.BalloonPages, Is.EqualTo(rig.Sim.BalloonPages), "the pages on fill_balloon's local list were enqueued in both");
        Assert.That(child.HostBallooned, Is.EqualTo(rig.Sim.HostBallooned));
        Assert.That(child.PageMap(), Is.EqualTo(rig.Sim.PageMap()));
        Assert.That(child.Reports, Is.Empty);
    }

    [Test]
    public void SynchronousInflate_v6_1_WhileTheThreadSleepsAfterOutOfPuff_ItsBatchStaysTheThreads()
    {
        var rig = OutOfPuffGuestWithABalloon("v6.1");
        long before = rig.Sim.BalloonPages;
        rig.Sim.WorkloadFree(0.1, "interleave", 1);

        Assert.That(rig.Sim.BalloonInflate(1), Is.EqualTo(256), "a fill_balloon of its own, with its own local list");
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(before + 256));
        long inflated = rig.Event(VmEvent.BalloonInflate);
        rig.Sim.Run(300);

        Assert.That(rig.Event(VmEvent.BalloonInflate), Is.GreaterThan(inflated), "the thread woke and enqueued the batch it slept with");
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(before + 256), "then leaked it back: the host had settled for the synchronous inflation");
        Assert.That(rig.Sim.HostBallooned, Is.EqualTo(rig.Sim.BalloonPages));
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "no page of either list lost");
    }

    [Test]
    public void SynchronousDeflate_v6_1_WhileTheThreadSleepsAfterOutOfPuff_DoesNotWait()
    {
        var rig = OutOfPuffGuestWithABalloon("v6.1");
        double slept = rig.Sim.ClockMs;
        long before = rig.Sim.BalloonPages;

        long deflated = rig.Sim.BalloonDeflate(0.5);

        Assert.That(deflated, Is.EqualTo(128));
        Assert.That(rig.Sim.ClockMs - slept, Is.LessThan(20.0), "mutex_lock found balloon_lock free: no wait for the thread's msleep(200)");
        Assert.That(rig.Sim.BalloonPages, Is.EqualTo(before - 128));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
