using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Host;

/// <summary>
/// QEMU's precopy live migration (migration/ram.c: ram_init_bitmaps, migration_iteration_run, ram_save_pending,
/// save_normal_page, save_zero_page, migration_bitmap_sync_precopy, qemu_guest_free_page_hint) and free page hinting on
/// both sides (QEMU's virtio-balloon.c get_free_page_hints and the precopy notifier; 6.1's report_free_page_func, the
/// hint shrinker).
/// </summary>
public class MigrationTests
{
    private static Simulation Guest(string design = "v6.1", long memoryMib = 256, bool hint = false, bool hostThp = false) =>
        Simulation.Create(new SimulationOptions
        {
            MemoryMib = memoryMib, Design = KernelDesign.Parse(design), Seed = 1, FreePageHint = hint, HostThp = hostThp,
        });

    private static Dictionary<string, long> Stats(Simulation sim) =>
        LiveMigration.StatNames.Zip(sim.HostMigrationStats()).ToDictionary(p => p.First, p => p.Second);

    private static T Get<T>(Simulation sim) => (T)sim.Services.GetService(typeof(T))!;

    private static long FreePages(Simulation sim) => Get<Node>(sim).Zones.Sum(z => z.FreePages);

    private static long Event(Simulation sim, VmEvent e) => sim.VmstatValues()[(int)ZoneStat.Count + (int)e];

    /// <summary>The page-state and balloon checks (on after every operation) found nothing.</summary>
    private static void NoFindings(params Simulation[] sims)
    {
        foreach (var sim in sims) Assert.That(sim.Reports.Select(r => r.ToString()), Is.Empty);
    }

    /// <summary>Let simulated time pass until the running migration ends.</summary>
    private static void RunToCompletion(Simulation sim)
    {
        for (int i = 0; i < 10_000 && Get<LiveMigration>(sim).Active; i++) sim.Run(LiveMigration.BufferDelayNs / 1e6);
        Assert.That(Get<LiveMigration>(sim).CurrentStatus, Is.EqualTo(LiveMigration.Status.Completed));
    }

    [Test]
    public void IdleGuest_SendsEachBackedFrameWhole_TheRestAsZeroPages_AndTheDestinationHoldsWhatWasSentWhole(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var sim = Guest(design);
        sim.WorkloadAnon(64);
        sim.WorkloadFree(0.5, "interleave", 1);
        sim.BalloonInflate(32);
        long backed = sim.HostResidentPages;

        Assert.That(sim.HostMigrate(128, 300, wait: true), Is.EqualTo((long)LiveMigration.Status.Completed));
        var s = Stats(sim);
        Assert.That((s["normal"], s["duplicate"]), Is.EqualTo((backed, sim.NrPages - backed)),
            "an idle guest writes nothing during the migration: each frame is sent once, whole if the host backs it (freed or not), "
            + "else as a zero page (never written, or discarded by the balloon)");
        Assert.That(s["transferred"], Is.EqualTo(backed * LiveMigration.NormalPageBytes + (sim.NrPages - backed) * LiveMigration.ZeroPageBytes));
        Assert.That(s["remaining"], Is.Zero);
        double seconds = (double)s["transferred"] / (128 << 20);
        Assert.That(s["total_time_ns"] / 1e9, Is.InRange(seconds - 0.1, seconds + 0.2),
            "the bulk pass at 128 MiB/s, a tenth of a second's worth per 100 ms period");
        Assert.That(s["hinted_pages"], Is.Zero, "no free page hinting negotiated");
        Assert.That((sim.HostResidentPages, sim.HostFaults), Is.EqualTo((backed, backed)),
            "on the destination only the frames sent whole are written (a zero page leaves its frame untouched)");
        NoFindings(sim);
    }

    /// <summary>info migrate's total time (populate_time_info): while the migration runs, the time since it started.</summary>
    [Test]
    public void TotalTime_WhileTheMigrationRuns_IsTheTimeSoFar()
    {
        var sim = Guest(memoryMib: 256);
        sim.WorkloadAnon(128);
        sim.HostMigrate(8, 300, wait: false);
        sim.Run(250);
        Assert.That(sim.HostMigrationStats()[0], Is.EqualTo((long)LiveMigration.Status.Active), "precondition: 128 MiB at 8 MiB/s");
        Assert.That(Stats(sim)["total_time_ns"], Is.EqualTo(250_000_000));
    }

    [Test]
    public void AFrameWrittenBeforeTheBulkPassReachesItsChunk_GoesOnce_OneWrittenInTheChunkBeingSent_Twice()
    {
        var sim = Guest(memoryMib: 2048); // two 1 GiB chunks of the dirty log
        var ram = Get<RamBlock>(sim);
        sim.HostMigrate(8, 300, wait: false);
        sim.Run(0); // the first iteration: chunk 0's log is cleared before its first frame goes
        int inChunk0 = 200_000, inChunk1 = (1 << LiveMigration.ClearBitmapShift) + 1000;
        ram.Write(inChunk0); // logged: its chunk was cleared; the pass sends it, and the next sync puts it back
        ram.Write(inChunk1); // dirty since the setup and not cleared yet: the clear before chunk 1's first send drops it
        RunToCompletion(sim);
        var s = Stats(sim);
        Assert.That((s["normal"], s["duplicate"]), Is.EqualTo((3L, sim.NrPages - 2L)),
            "the chunk-0 frame whole twice, the chunk-1 frame whole once");
        NoFindings(sim);
    }

    [Test]
    public void OnAHostWithThp_TheZerosOfAHugePageTheGuestNeverWrote_GoAsZeroPages()
    {
        var sim = Guest(hostThp: true);
        var ram = Get<RamBlock>(sim);
        ram.Write(5);                 // one guest write: the host maps the 2 MiB region with a huge page
        ram.Write(7);                 // mapped already: no fault, and now it holds data
        Assert.That((sim.HostResidentPages, sim.HostFaults, sim.HostHugePages), Is.EqualTo((512L, 1L, 1L)));
        Assert.That(ram.HoldsData(5) && ram.HoldsData(7) && !ram.HoldsData(6) && ram.IsBacked(6), Is.True);
        sim.HostMigrate(128, 300, wait: true);
        var s = Stats(sim);
        Assert.That((s["normal"], s["duplicate"]), Is.EqualTo((2L, sim.NrPages - 2L)),
            "buffer_is_zero: the huge page's other 510 frames read as zeros");
        Assert.That((sim.HostResidentPages, sim.HostHugePages), Is.EqualTo((512L, 1L)),
            "on the destination the first frame written maps a huge page again");
        NoFindings(sim);
    }

    [Test]
    public void FramesWrittenAfterTheyWereSent_AreLoggedAndSentAgain_InTheDowntimeWhenFewAreLeft()
    {
        var sim = Guest(memoryMib: 256);
        var ram = Get<RamBlock>(sim);
        sim.HostMigrate(1, 300, wait: false);
        sim.Run(0); // the first iteration: 1 MiB/s sends 11,651 zero pages a period, from pfn 0
        Assert.That(Stats(sim)["duplicate"], Is.EqualTo((1 << 20) / 10 / LiveMigration.ZeroPageBytes + 1));
        ram.Write(0, 10);                 // sent already: the dirty log has them
        ram.Write(sim.NrPages - 1);       // not sent yet: the pass sends it whole, and the log has it too
        RunToCompletion(sim);

        var s = Stats(sim);
        Assert.That((s["normal"], s["duplicate"]), Is.EqualTo((12L, sim.NrPages - 1L)),
            "the ten frames went as zero pages, then whole once the sync found them in the dirty log; the last frame went whole "
            + "in the pass and again after the sync (sending a frame does not clear its bit in the log)");
        Assert.That(s["dirty_sync_count"], Is.EqualTo(3), "the setup's sync, the one when little was left, the completion's");
        Assert.That(s["downtime_ns"], Is.EqualTo(11L * LiveMigration.NormalPageBytes * 1_000_000_000 / (1 << 20)),
            "the eleven frames' 44 KiB were below 1 MiB/s × 300 ms: sent with the guest stopped");
        Assert.That(ram.Logging, Is.False, "the dirty log is off after the migration");
        Assert.That(sim.HostResidentPages, Is.EqualTo(11), "the destination holds the frames sent whole");
        NoFindings(sim);
    }

    [Test]
    public void FreePageHinting_HandsTheFreeBlocksToTheHost_WhichSkipsThem_AndTheGuestTakesThemBackWhenItIsDone()
    {
        long Migrate(bool hint, out Simulation sim)
        {
            sim = Guest(memoryMib: 1024, hint: hint);
            sim.WorkloadAnon(600);
            sim.WorkloadFree(1.0, "interleave", 1); // the host still backs the 600 MiB the guest has freed
            long free = FreePages(sim);
            sim.HostMigrate(128, 300, wait: true);
            Assert.That(FreePages(sim), Is.EqualTo(free), "hinted blocks are given back once the host says DONE");
            Assert.That(sim.FreePageHintBlocks, Is.Zero);
            return Stats(sim)["normal"];
        }

        long plain = Migrate(hint: false, out var plainSim);
        long hinted = Migrate(hint: true, out var hintSim);
        var s = Stats(hintSim);
        Assert.That(plain, Is.GreaterThan(600 * 256), "without hints the freed 600 MiB goes whole: the host cannot tell it is free");
        Assert.That(s["hinted_pages"] % 1024, Is.Zero, "hints come in blocks of order MAX_ORDER - 1 (4 MiB)");
        Assert.That(s["hinted_pages"], Is.GreaterThan(600 * 256), "the free memory above the min watermark, in 4 MiB blocks");
        Assert.That(hinted, Is.LessThan(plain / 20), "the hinted blocks were cleared from the bitmap before the bulk pass reached them");
        Assert.That(s["total_time_ns"], Is.LessThan(Stats(plainSim)["total_time_ns"] / 10));
        Assert.That(hintSim.HostResidentPages, Is.EqualTo(hinted), "the destination never backs the hinted frames");
        NoFindings(plainSim, hintSim);
    }

    [Test]
    public void HintedChunks_ClearTheirDirtyLog_SoTheNextSyncDoesNotPutTheHintedFramesBack()
    {
        var sim = Guest(memoryMib: 4096, hint: true); // four 1 GiB chunks, the workload's in one: the others end up hinted
        sim.WorkloadAnon(600);
        sim.WorkloadFree(1.0, "interleave", 1);
        sim.HostMigrate(128, 300, wait: true);
        var s = Stats(sim);
        Assert.That(s["hinted_pages"], Is.GreaterThan(3L << LiveMigration.ClearBitmapShift));
        Assert.That(s["normal"] + s["duplicate"] + s["hinted_pages"], Is.EqualTo(sim.NrPages),
            "each frame sent or hinted once: a hint clears its chunk's log as a send does (QEMU 6.1; before it, the frames "
            + "dirty since the setup came back at the next sync and went as zero pages)");
        NoFindings(sim);
    }

    [Test]
    public void WithoutAMigration_TheHintWorkNeverRuns_AndNothingIsAllocated()
    {
        var sim = Guest(hint: true);
        long allocs = Event(sim, VmEvent.PgallocNormal) + Event(sim, VmEvent.PgallocDma32) + Event(sim, VmEvent.PgallocDma);
        sim.HostSetTarget(16); // a config change: the work runs, reads STOP and does nothing
        sim.Run(1000);
        Assert.That(sim.FreePageHintBlocks, Is.Zero);
        Assert.That(Event(sim, VmEvent.PgallocNormal) + Event(sim, VmEvent.PgallocDma32) + Event(sim, VmEvent.PgallocDma) - allocs,
            Is.EqualTo(16 * 256), "only the balloon's pages were allocated");
        Assert.That(Get<FreePageHints>(sim).CurrentStatus, Is.EqualTo(FreePageHints.Status.Stop), "the host never asked for hints");
        NoFindings(sim);
    }

    [Test]
    public void HeldHintBlocks_AreTakenBackByTheShrinker_UnderMemoryPressure_BeforeAnyOomKill()
    {
        var sim = Guest(memoryMib: 512, hint: true);
        sim.HostMigrate(1, 300, wait: false);
        sim.Run(0); // the hint work runs at once: every free 4 MiB block above the min watermark is held
        long held = sim.FreePageHintBlocks;
        Assert.That(held * 1024, Is.GreaterThan(400 * 256));
        long free = FreePages(sim);
        Assert.That(free, Is.LessThan(Get<Node>(sim).Zones.Sum(z => z.Watermark[Zone.WmarkLow]) + 1024),
            "__GFP_NORETRY without reclaim: blocks are taken down to the min watermark");

        Assert.That(sim.WorkloadAnon(300), Is.EqualTo(300 * 256), "the fault's reclaim frees held blocks through the shrinker");
        Assert.That(sim.FreePageHintBlocks, Is.LessThan(held - 300 / 4));
        Assert.That(Event(sim, VmEvent.SlabsScanned), Is.Positive, "do_shrink_slab scanned the hint shrinker's pages");
        Assert.That(sim.Dmesg(), Does.Not.Contain("Out of memory"));
        sim.HostMigrateCancel();
        sim.Run(0);
        Assert.That(sim.FreePageHintBlocks, Is.Zero, "the cancel's DONE gives the rest back");
        NoFindings(sim);
    }

    [Test]
    public void QemuHintStatus_StartsOnTheIdItAskedFor_StopsOnlyOnceStarted_AndReadsAsStopInTheConfigWhileStarted()
    {
        var sim = Guest(hint: true);
        var hints = Get<FreePageHints>(sim);
        Assert.That((hints.CurrentStatus, hints.ConfigCmdId), Is.EqualTo((FreePageHints.Status.Stop, FreePageHints.CmdIdStop)));
        Get<LiveMigration>(sim).Start(1 << 20, 300); // the setup's sync: the notifier starts hinting (no time passes here)
        Assert.That((hints.CurrentStatus, hints.ConfigCmdId), Is.EqualTo((FreePageHints.Status.Requested, FreePageHints.CmdIdMin + 1)),
            "virtio_balloon_free_page_start: the id after CMD_ID_MIN");
        hints.ReceiveCmdId(FreePageHints.CmdIdStop);
        Assert.That(hints.CurrentStatus, Is.EqualTo(FreePageHints.Status.Requested), "a stale stop sign of an earlier command is ignored");
        hints.ReceiveHint(0, 10);
        Assert.That(Stats(sim)["hinted_pages"], Is.Zero, "a hint before the start id is not taken");
        hints.ReceiveCmdId(FreePageHints.CmdIdMin + 1);
        Assert.That((hints.CurrentStatus, hints.ConfigCmdId), Is.EqualTo((FreePageHints.Status.Start, FreePageHints.CmdIdStop)),
            "virtio_balloon_get_config leaves the field zero in START");
        hints.ReceiveHint(0, 10);
        Assert.That(Stats(sim)["hinted_pages"], Is.EqualTo(1024), "qemu_guest_free_page_hint: the block's frames off the bitmap");
        hints.ReceiveCmdId(FreePageHints.CmdIdStop);
        Assert.That(hints.CurrentStatus, Is.EqualTo(FreePageHints.Status.Stop));
        hints.Done();
        Assert.That(hints.ConfigCmdId, Is.EqualTo(FreePageHints.CmdIdDone));
    }

    [Test]
    public void BadArguments_AreRefusedNamingThem_AndChangeNothing()
    {
        var sim = Guest();
        Assert.That(() => sim.HostMigrate(0, 300, true), Throws.InstanceOf<ArgumentException>().With.Message.Contains("bandwidth_mib_s"));
        Assert.That(() => sim.HostMigrate(double.NaN, 300, true), Throws.InstanceOf<ArgumentException>().With.Message.Contains("bandwidth_mib_s"));
        Assert.That(() => sim.HostMigrate(128, -1, true), Throws.InstanceOf<ArgumentException>().With.Message.Contains("downtime_limit_ms"));
        Assert.That(Stats(sim)["status"], Is.EqualTo((long)LiveMigration.Status.None));
        sim.HostMigrate(1, 300, wait: false);
        Assert.That(() => sim.HostMigrate(128, 300, true), Throws.InstanceOf<ArgumentException>().With.Message.Contains("a migration is running"));
        sim.HostMigrateCancel();
        Assert.That(Stats(sim)["status"], Is.EqualTo((long)LiveMigration.Status.Cancelled));
        Assert.That(sim.HostMigrate(128, 300, true), Is.EqualTo((long)LiveMigration.Status.Completed), "usable again after the cancel");
        Assert.That(() => Guest("legacy", hint: true), Throws.InstanceOf<ArgumentException>().With.Message.Contains("free_page_hint"));
    }

    [Test]
    public void AMigrationStartedRightAfterACancel_RunsAtItsOwnPace_TheCancelledOnesIterationsStop()
    {
        var fresh = Guest();
        fresh.WorkloadAnon(32);
        var again = Guest();
        again.WorkloadAnon(32);
        again.HostMigrate(4, 300, wait: false);
        again.Run(50);                           // the first iteration ran; the next is armed for 100 ms after it
        again.HostMigrateCancel();
        again.HostMigrate(4, 300, wait: false); // the cancelled one's next iteration is still armed
        fresh.Run(50);
        fresh.HostMigrate(4, 300, wait: false);
        RunToCompletion(fresh);
        RunToCompletion(again);
        Assert.That(Stats(again)["total_time_ns"], Is.EqualTo(Stats(fresh)["total_time_ns"]), "one iteration a period, not two");
        NoFindings(fresh, again);
    }

    [Test]
    public void ASnapshotMidMigration_RestoresTheMigrationAndTheHintsBitForBit()
    {
        var sim = Guest(memoryMib: 512, hint: true);
        sim.WorkloadAnon(200);
        sim.WorkloadFree(0.5, "interleave", 1);
        sim.HostMigrate(8, 300, wait: false);
        sim.Run(300);
        var snap = sim.Snapshot();
        RunToCompletion(sim);
        var first = sim.HostMigrationStats();
        long resident = sim.HostResidentPages;

        sim.Restore(snap);
        Assert.That(Get<LiveMigration>(sim).Active, Is.True);
        Assert.That(sim.FreePageHintBlocks, Is.Positive);
        RunToCompletion(sim);
        Assert.That(sim.HostMigrationStats(), Is.EqualTo(first));
        Assert.That(sim.HostResidentPages, Is.EqualTo(resident));
        NoFindings(sim);
    }
}
