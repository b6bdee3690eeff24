using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// 6.1's pressure stall information for memory (kernel/sched/psi.c: psi_group_change, test_state, record_times,
/// collect_percpu_times, update_averages, calc_avgs, psi_show; the memstall sections of mm/page_alloc.c, mm/vmscan.c,
/// mm/compaction.c and mm/filemap.c). The paths below set the clock themselves, so each figure is exact.
/// </summary>
public class PsiTests
{
    private const long Ms = 1_000_000;

    /// <summary>A 64 MiB guest of <paramref name="design"/>; the clock's HZ, the disk's latency and proactive compaction as given.</summary>
    private static Simulation Guest(string design = "v6.1", int hz = 250, double ioLatencyMs = 2, int? proactiveness = null,
        int memoryMib = 64, long swapMib = 0) =>
        Simulation.Create(new SimulationOptions
        {
            MemoryMib = memoryMib, Design = KernelDesign.Parse(design), Seed = 1, Hz = hz, IoLatencyMs = ioLatencyMs,
            CompactionProactiveness = proactiveness, SwapMib = swapMib,
        });

    private static long Vm(Simulation sim, string name) => sim.VmstatValues()[Array.IndexOf(sim.VmstatNames(), name)];

    private static T Get<T>(Simulation sim) => (T)sim.Services.GetService(typeof(T))!;

    /// <summary>Run <paramref name="body"/> as one path on CPU 0, as an operation's own path runs.</summary>
    private static void OnCpu0(Simulation sim, Action<Scheduler> body)
    {
        var scheduler = Get<Scheduler>(sim);
        scheduler.Run([new SimTask(0, 0, "test", () => body(scheduler))], null);
    }

    /// <summary>A kernel thread woken from the running path onto <paramref name="cpu"/>, run nested in it.</summary>
    private static void Woken(Scheduler scheduler, int cpu, Action body) => scheduler.RunWoken(new SimTask(9, cpu, "kthread", body));

    private static (long Some, long Full) Totals(Simulation sim) => Totals(sim.ProcPressureMemory());

    private static (long Some, long Full) Totals(string text)
    {
        var lines = text.Split('\n');
        static long Total(string line) => long.Parse(line[(line.IndexOf("total=", StringComparison.Ordinal) + 6)..]);
        return (Total(lines[0]), Total(lines[1]));
    }

    [Test]
    public void ProcPressureMemory_v6_1_AtBootIsTheKernelsTextOfZeros_AndKernelsBefore4_20HaveNone()
    {
        const string zeros = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        Assert.That(Guest().ProcPressureMemory(), Is.EqualTo(zeros));
        Assert.That(Guest().ProcPressureIo(), Is.EqualTo(zeros));
        Assert.That(Guest().ProcPressureCpu(), Is.EqualTo(zeros));
        foreach (var design in new[] { "legacy", "redesign", "fixed", "movable" })
        {
            var sim = Guest(design);
            Assert.That(sim.HasPsi, Is.False, design);
            Assert.That(() => sim.ProcPressureMemory(), Throws.InvalidOperationException.With.Message.Contains("4.20"), design);
            Assert.That(() => sim.ProcPressureIo(), Throws.InvalidOperationException.With.Message.Contains("4.20"), design);
            Assert.That(() => sim.ProcPressureCpu(), Throws.InvalidOperationException.With.Message.Contains("4.20"), design);
        }
        Assert.That(Guest().HasPsi, Is.True);
    }

    [Test]
    public void AStallOfOneTaskAloneOnItsCpu_IsSomeAndFull_ForExactlyItsLength()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            s.NowNs += 1 * Ms;
            using (psi.Memstall()) s.NowNs += 3 * Ms;
            s.NowNs += 6 * Ms;
        });
        Assert.That(Totals(sim), Is.EqualTo((3000L, 3000L)), "microseconds: the 10 ms of work weigh 2 jiffies, the one CPU all of it");
    }

    [Test]
    public void NestedMemstallSections_CountOnce_TheOutermostLeaveEndsTheStall()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall())
            {
                using (psi.Memstall()) s.NowNs += 2 * Ms;
                s.NowNs += 3 * Ms; // still stalled: the inner leave did nothing
            }
            s.NowNs += 5 * Ms;
        });
        Assert.That(Totals(sim), Is.EqualTo((5000L, 5000L)));
    }

    /// <summary>
    /// collect_percpu_times weights each CPU by nsecs_to_jiffies of its non-idle time since the last collection, truncated:
    /// a read after less than a jiffy (4 ms at HZ=250) of work adds none of its stall, and that time is gone for good.
    /// </summary>
    [Test]
    public void ACollectionAfterLessThanAJiffyOfWork_AddsNothing_AsTheKernelsTruncatedWeightGives()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 3 * Ms;
        });
        Assert.That(Totals(sim), Is.EqualTo((0L, 0L)), "3 ms of work: 0 jiffies");
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 3 * Ms;
            s.NowNs += 2 * Ms;
        });
        Assert.That(Totals(sim), Is.EqualTo((3000L, 3000L)), "5 ms: one jiffy, the stall counted whole; the first 3 ms are not");
    }

    /// <summary>
    /// A read from the disk (not of the workingset) is I/O pressure and no memory stall: SOME while the reader waits, FULL
    /// while nothing else runs on its CPU (io test_state: NR_IOWAIT, and no NR_RUNNING); a reader nested beside a running
    /// waker on the same CPU is SOME only. The sleep ends 8 ms after it began, before its 25 ns preemption point: 7,999 µs.
    /// </summary>
    [TestCase(false, 7999L, 7999L)]
    [TestCase(true, 7999L, 0L)]
    public void AReadFromTheDisk_IsIoPressure_FullWhileNothingRunsOnItsCpu(bool besideARunningTask, long some, long full)
    {
        var sim = Guest(ioLatencyMs: 8);
        var clock = Get<SimClock>(sim);
        OnCpu0(sim, s =>
        {
            if (besideARunningTask) Woken(s, 0, () => clock.WaitForRead("test", workingset: false));
            else clock.WaitForRead("test", workingset: false);
        });
        Assert.That(Totals(sim.ProcPressureIo()), Is.EqualTo((some, full)));
        Assert.That(Totals(sim), Is.EqualTo((0L, 0L)), "no memory stall");
    }

    /// <summary>
    /// A wait on writeback is a wait for I/O: __unmap_and_move's folio_wait_writeback sleeps in folio_wait_bit_common's
    /// io_schedule (as __folio_lock's wait does), so sync compaction (compact_memory, MIGRATE_SYNC) that meets a page still
    /// being swapped out, on a forced pass, is I/O SOME and, alone on its CPU, FULL for as long as it waits. It is no memory
    /// stall: the sysctl's compaction is not a memstall section. At HZ=1000 and with a read just before, the collection
    /// weighs CPU 0 alone, so the totals grow by the wait itself.
    /// </summary>
    [Test]
    public void SyncCompactionWaitingOnWriteback_IsIoPressure_ForTheWholeWait()
    {
        var sim = Guest(hz: 1000, memoryMib: 256, swapMib: 256);
        sim.WorkloadAnon(200);
        sim.WorkloadAnon(100);
        sim.WorkloadFree(0.5, "interleave", 1, "all");
        var (io, memory) = (Totals(sim.ProcPressureIo()), Totals(sim));
        Assert.That(Vm(sim, "nr_writeback"), Is.Positive, "precondition: swap-out still being written");
        var spy = new Spy(Get<Scheduler>(sim));
        sim.Compact();
        Assert.That(spy.Sleeps.Select(w => w.Where), Is.EqualTo(new[] { "__unmap_and_move" }), "precondition: one wait, on writeback");
        long waitedUs = spy.Sleeps[0].Ns / 1000;
        Assert.That(waitedUs, Is.GreaterThan(1000));
        Assert.That(Totals(sim.ProcPressureIo()), Is.EqualTo((io.Some + waitedUs, io.Full + waitedUs)));
        Assert.That(Totals(sim), Is.EqualTo(memory), "no memory stall");
    }

    /// <summary>
    /// CPU pressure (test_state's PSI_CPU_SOME: NR_RUNNING above the one on the CPU): a kernel thread woken nested on its
    /// waker's CPU runs there while the waker, still runnable, waits: 3 ms of CPU SOME; the same thread on another CPU
    /// makes none. CPU 0 was non-idle 10 ms (2 jiffies), CPU 1 3 ms (0 jiffies), so the total is CPU 0's 3 ms. CPU FULL
    /// is undefined at the system level: psi_show prints zeros. Neither is a memory or I/O stall.
    /// </summary>
    [Test]
    public void AThreadWokenNestedOnItsWakersCpu_IsCpuPressure_FullIsZerosAtTheSystemLevel()
    {
        var sim = Guest();
        OnCpu0(sim, s =>
        {
            s.NowNs += 2 * Ms;
            Woken(s, 0, () => s.NowNs += 3 * Ms);
            Woken(s, 1, () => s.NowNs += 3 * Ms);
            s.NowNs += 2 * Ms;
        });
        Assert.That(sim.ProcPressureCpu(), Is.EqualTo(
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=3000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"));
        Assert.That(Totals(sim), Is.EqualTo((0L, 0L)));
        Assert.That(Totals(sim.ProcPressureIo()), Is.EqualTo((0L, 0L)));
    }

    /// <summary>
    /// At HZ=300, which does not divide a second in nanoseconds, nsecs_to_jiffies is the kernel's generic n · 9 / 30,000,000:
    /// a stall of one tick (3,333,333 ns) weighs 0 jiffies and is lost, one a nanosecond longer weighs 1 and counts whole
    /// (a division by the tick would have counted both).
    /// </summary>
    [Test]
    public void AtHz300_TheWeightIsTheKernelsGenericNsecsToJiffies()
    {
        var sim = Guest(hz: 300);
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 3_333_333;
        });
        Assert.That(Totals(sim), Is.EqualTo((0L, 0L)));
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 3_333_334;
        });
        Assert.That(Totals(sim), Is.EqualTo((3333L, 3333L)));
    }

    /// <summary>A woken thread nested on the same CPU is the task on it: its stall is FULL although the waker is runnable.</summary>
    [Test]
    public void TheStalledTaskOnTheCpu_MakesItFull_EvenWithAnotherRunnable()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s => Woken(s, 0, () =>
        {
            using (psi.Memstall()) s.NowNs += 8 * Ms;
        }));
        Assert.That(Totals(sim), Is.EqualTo((8000L, 8000L)));
    }

    /// <summary>A stalled task preempted by one that is not stalled: SOME only (a running task is productive).</summary>
    [Test]
    public void AStalledTaskWhileAnUnstalledOneRunsOnItsCpu_IsSomeOnly()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) Woken(s, 0, () => s.NowNs += 8 * Ms);
        });
        Assert.That(Totals(sim), Is.EqualTo((8000L, 0L)));
    }

    /// <summary>A stalled task that sleeps keeps TSK_MEMSTALL (not TSK_MEMSTALL_RUNNING): alone on its CPU, that is FULL.</summary>
    [Test]
    public void AStalledTaskAsleep_StaysStalled_AndAloneOnItsCpuIsFull()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        var clock = Get<SimClock>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) clock.WaitForDevice(8 * Ms, "test");
            clock.WaitForDevice(8 * Ms, "test"); // asleep, not stalled: the CPU is idle
        });
        Assert.That(Totals(sim), Is.EqualTo((8000L, 8000L)), "the 8 ms asleep in the stall; the sleep's 25 ns preemption point is before it");
    }

    /// <summary>Two CPUs busy for 8 ms, one stalled all along: the mean weighted by non-idle jiffies, half of it.</summary>
    [Test]
    public void CpusAreWeightedByTheirNonIdleJiffies()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) Woken(s, 1, () => s.NowNs += 8 * Ms);
        });
        Assert.That(Totals(sim), Is.EqualTo((4000L, 4000L)), "(8 ms · 2 + 0 · 2) / 4 jiffies");
    }

    /// <summary>
    /// A task asleep in io_schedule (TSK_IOWAIT: a read from the disk, not of the workingset) is no stall, but its CPU is
    /// non-idle and weighs in: a stall of 8 ms on CPU 0 beside an 8 ms read on CPU 1 is half of it, as beside a running task.
    /// </summary>
    [Test]
    public void ACpuWaitingForARead_IsNonIdle_AndWeighsInTheMean()
    {
        var sim = Guest(ioLatencyMs: 8);
        var psi = Get<Psi>(sim);
        var clock = Get<SimClock>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) Woken(s, 1, () => clock.WaitForRead("test", workingset: false));
        });
        Assert.That(Totals(sim), Is.EqualTo((4000L, 4000L)), "(8 ms · 2 + 0 · 2) / 4 jiffies; idle, CPU 1 would weigh nothing: 8 ms");
    }

    /// <summary>
    /// The averages move once per PSI_FREQ (2 s + 1 tick, 2.004 s at HZ=250) on a fixed grid from boot: a read before the
    /// first period's end shows the total but no average; a whole period stalled is a sample of 100 %, which calc_load
    /// folds in as 37,100 (avg10), 6,700 (avg60) and 1,400 (avg300) in fixed point (worked by hand from EXP_10s 1677,
    /// EXP_60s 1981, EXP_300s 2034, FIXED_1 2048).
    /// </summary>
    [Test]
    public void TheAveragesUpdateOnceAPeriod_AWholePeriodStalledGivesTheKernelsFigures()
    {
        var sim = Guest();
        var psi = Get<Psi>(sim);
        Assert.That(sim.ClockMs, Is.Zero, "precondition: the clock starts at boot");
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 1_500 * Ms;
        });
        Assert.That(sim.ProcPressureMemory(), Does.StartWith("some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n"));
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 504 * Ms;
        });
        Assert.That(sim.ProcPressureMemory(), Is.EqualTo(
            "some avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\nfull avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\n"));
        sim.Run(2_004);
        Assert.That(sim.ProcPressureMemory(), Does.StartWith("some avg10=14.83 avg60=3.16 avg300=0.67 total=2004000\n"),
            "an idle period decays each average: 37,100 · 1677 / 2048 = 30,379 (14.83), 6,700 · 1981 / 2048 = 6,480, 1,400 · 2034 / 2048 = 1,390");
    }

    /// <summary>A guest that nothing wakes on the clock (no proactive compaction) whose one path stalled the first whole period.</summary>
    private static Simulation IdleGuestAfterAStalledPeriod()
    {
        var sim = Guest(proactiveness: 0);
        var psi = Get<Psi>(sim);
        OnCpu0(sim, s =>
        {
            using (psi.Memstall()) s.NowNs += 2_004 * Ms;
        });
        return sim;
    }

    /// <summary>
    /// kernel.org 6.1.y from 6.1.42 (v6.2's "sched/psi: Fix avgs_work re-arm in psi_avgs_work()"): the averaging work that
    /// finds the system idle stops, and the next update catches up the periods it missed. After a whole period stalled
    /// (18.11 / 3.27 / 0.68, the read at 2.004 s), the work at 2.016 s (the timer wheel's bucket after 2.004 s) finds the
    /// guest idle and stops; a read at 22.004 s is 8 periods past the next update (4.008 s): calc_load_n decays by
    /// fixed_power_int(EXP, 8), then the read's own sample of 0 gives 2.99 / 2.42 / 0.64 (worked from
    /// kernel/sched/loadavg.c's fixed_power_int and calc_load). A work re-armed every period, as the Android common tree's,
    /// would have decayed nine times, one period at a time. Proactive compaction is off:
    /// kcompactd's wake-ups every 500 ms would arm the work again (psi_group_change's wake_clock), as on a real guest.
    /// </summary>
    [Test]
    public void AnIdleSystemStopsTheAveragingWork_AndTheNextUpdateCatchesUpTheMissedPeriods()
    {
        var sim = IdleGuestAfterAStalledPeriod();
        Assert.That(sim.ProcPressureMemory(), Does.StartWith("some avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\n"));
        sim.Run(20_000);
        Assert.That(sim.ProcPressureMemory(), Is.EqualTo(
            "some avg10=2.99 avg60=2.42 avg300=0.64 total=2004000\nfull avg10=2.99 avg60=2.42 avg300=0.64 total=2004000\n"));
    }

    /// <summary>
    /// The averaging work's own CPU counts only with a task on it when the work runs (the kworker there is never idle):
    /// work done on that CPU earlier in the period, by a task gone since, does not keep the work going, while the same on
    /// another CPU would (its non-idle time). The same guest as above, not read at 2.004 s: the work at 2.016 s takes the
    /// stalled period's sample (99 % of 2.016 s) and stops; the next change (at 3 s, on CPU 0) arms it again for 5.024 s;
    /// a path running from 3 s to 3.5 s on CPU 0 leaves it to stop there all the same (an idle sample), and a read at 19 s
    /// catches up 6 periods (fixed_power_int(EXP, 6)): avg10 3.62. The same path on CPU 1 is non-idle time on another CPU: the work at 5.024 s runs once more
    /// (6.048 s, one period decayed) and the read catches up 5 (3.61).
    /// </summary>
    [TestCase(0, "3.62")]
    [TestCase(1, "3.61")]
    public void TheWorksOwnCpu_KeepsItGoingOnlyWithATaskOnItWhenItRuns(int cpu, string avg10)
    {
        var sim = IdleGuestAfterAStalledPeriod();
        sim.Run(996);
        var scheduler = Get<Scheduler>(sim);
        scheduler.Run([new SimTask(0, cpu, "test", () => scheduler.NowNs += 500 * Ms)], null);
        sim.Run(15_500);
        Assert.That(sim.ClockMs, Is.EqualTo(19_000));
        Assert.That(sim.ProcPressureMemory(), Does.StartWith($"some avg10={avg10} avg60=2.48 avg300=0.63 total=2004000\n"));
    }

    /// <summary>
    /// 6.1's timer wheel fires a delayed work of PSI_FREQ armed at boot at the end of its bucket, in absolute jiffies from
    /// INITIAL_JIFFIES = 2^32 − 300·HZ: HZ=100, 201 jiffies, level 1 (8), INITIAL ≡ 0 mod 8: tick 208; HZ=250, 501, level 1:
    /// 504; HZ=300, 601, level 2 (64), INITIAL ≡ 48 mod 64, expiry ≡ 9: 656; HZ=1000, 2001, level 2, INITIAL ≡ 32: 2016.
    /// A delay under 63 jiffies (level 0) fires a jiffy after its expiry.
    /// </summary>
    [TestCase(100, 201, 208)]
    [TestCase(250, 501, 504)]
    [TestCase(300, 601, 656)]
    [TestCase(1000, 2001, 2016)]
    [TestCase(250, 62, 63)]
    public void TheAveragingWorkFires_AtTheEndOfItsTimerWheelBucket(int hz, long delay, long tick)
    {
        var sim = Guest(hz: hz);
        var clock = Get<SimClock>(sim);
        Assert.That(Get<Psi>(sim).DelayedWorkDueNs(0, delay), Is.EqualTo(tick * clock.TickNs));
    }

    [Test]
    public void FixedPowerInt_IsTheKernelsRoundedPower()
    {
        Assert.That(Psi.FixedPowerInt(1677, 2), Is.EqualTo(1373), "(1677² + 1024) >> 11 = 1373, then (2048 · 1373 + 1024) >> 11");
        Assert.That(Psi.FixedPowerInt(1677, 0), Is.EqualTo(2048), "x⁰ = FIXED_1");
        Assert.That(Psi.FixedPowerInt(1677, 1), Is.EqualTo(1677));
    }

    [Test]
    public void CalcLoad_RoundsUpWhileRising_AndDecaysByTheFactor()
    {
        Assert.That(Psi.CalcLoad(0, 1677, 100 * 2048), Is.EqualTo(37_100));
        Assert.That(Psi.CalcLoad(37_100, 1677, 0), Is.EqualTo(30_379));
        Assert.That(Psi.CalcLoad(100 * 2048, 1677, 100 * 2048), Is.EqualTo(100 * 2048), "a steady 100 % stays 100.00");
    }

    /// <summary>
    /// Reading a page of the workingset back from the disk is a stall (folio_wait_bit_common's thrashing accounting), any
    /// other read is not: a 64 MiB guest whose balloon leaves too little for a 40 MiB file rereads it; from the second
    /// reread the refaults restore pages to the workingset, and the stall grows by io_latency_ms for each of them (plus
    /// microseconds of direct reclaim), not for the refaults that were not in it.
    /// </summary>
    [Test]
    public void ReadingBackAWorkingsetPage_IsAStallOfTheRead_OtherReadsAreNot()
    {
        var sim = Guest();
        sim.WorkloadFile(40);
        sim.BalloonInflate(24);
        sim.WorkloadTouch(1.0, "file", "random", 0);
        long some = Totals(sim).Some, restores = Vm(sim, "workingset_restore_file"), refaults = Vm(sim, "workingset_refault");
        sim.WorkloadTouch(1.0, "file", "random", 1);
        restores = Vm(sim, "workingset_restore_file") - restores;
        refaults = Vm(sim, "workingset_refault") - refaults;
        Assert.That(refaults, Is.GreaterThan(restores + 20), "precondition: some refaults were not in the workingset");
        Assert.That(restores, Is.GreaterThan(100), "precondition: the reread restores pages to the workingset");
        var (someAfter, fullAfter) = Totals(sim);
        Assert.That(someAfter - some, Is.InRange(restores * 2_000, restores * 2_000 + 100));
        Assert.That(fullAfter, Is.EqualTo(someAfter), "the reader is the only task: stalled, nothing runs");
        long reads = Vm(sim, "workingset_refault");
        Assert.That(Totals(sim.ProcPressureIo()).Some, Is.InRange(reads * 2_000 - reads / 20, reads * 2_000 + 100),
            "every read is I/O pressure: 2 ms each (less a 25 ns preemption point), the first reread's and the restores' alike");
    }

    /// <summary>
    /// Which paths stall (a spy on the scheduler's PSI records where each psi_memstall_enter comes from): direct reclaim
    /// (__alloc_pages_direct_reclaim), direct compaction, kswapd's balance_pgdat and kcompactd's requested work; proactive
    /// compaction is not a stall.
    /// </summary>
    [Test]
    public void MemstallSections_AreDirectReclaimAndCompaction_KswapdAndKcompactdsRequestedWork()
    {
        var sim = Guest();
        var spy = new Spy(Get<Scheduler>(sim));
        sim.WorkloadFile(30);
        sim.WorkloadAnon(45);
        sim.WorkloadFree(0.5, "interleave", 1, "all");
        sim.Allocate(9, 8);
        sim.Run(1_000);
        Assert.That(spy.Innermost, Is.SupersetOf(new[] { "__alloc_pages_direct_reclaim", "balance_pgdat", "__alloc_pages_direct_compact", "kcompactd_do_work" }));
    }

    [Test]
    public void ProactiveCompaction_IsNotAStall()
    {
        var sim = V6_1.RigV6_1.Create(64, boostFactor: 0).FragmentedAnon().Sim;
        var spy = new Spy(Get<Scheduler>(sim));
        var vmstat = Get<VmStat>(sim);
        long scanned = vmstat.Event(VmEvent.CompactMigrateScanned);
        sim.Run(600);
        Assert.That(vmstat.Event(VmEvent.CompactMigrateScanned), Is.GreaterThan(scanned), "precondition: proactive compaction ran at 500 ms");
        Assert.That(vmstat.Event(VmEvent.CompactDaemonWake), Is.Zero, "precondition: no requested work");
        Assert.That(spy.Innermost, Is.Empty);
    }

    /// <summary>
    /// A memory stall from 2.000 s to 2.300 s on CPU 0 (HZ=1000, nothing else running) under a trigger "some 100000
    /// 500000" (100 ms of stall within 500 ms), worked by hand from 6.1's psi.c: the change into MEM_SOME wakes the poll
    /// worker a jiffy on, at 2.002 s (the timer wheel fires a level-0 timer a jiffy past its expiry); it starts the
    /// trigger's window there (2 ms stalled by then) and updates every 50 ms (the window's tenth), each time armed 51
    /// jiffies on and fired a jiffy after that, 52 ms apart: 2.054 s (52 ms grown), 2.106 s (104 ms: an event). The growth stays past the threshold, so the next event is
    /// pending, held back until a window after the first (2.606 s), and made at the first update from then, 2.626 s, though
    /// the stall ended at 2.300 s; polling stops 500 ms after the last poll that saw stall time (2.314 s). 90 ms of stall
    /// makes none.
    /// </summary>
    [TestCase(300, new[] { 2_106_000_000L, 2_626_000_000L })]
    [TestCase(90, new long[0])]
    public void ATrigger_MakesAnEventAtTheFirstUpdateThatSeesItsThreshold_AndHoldsTheNextBackAWindow(int stallMs, long[] events)
    {
        var sim = Guest(hz: 1000, proactiveness: 0);
        var psi = Get<Psi>(sim);
        int trigger = sim.PsiTriggerCreate("memory", "some 100000 500000");
        OnCpu0(sim, s =>
        {
            s.NowNs = 2_000 * Ms;
            using (psi.Memstall()) s.NowNs += stallMs * Ms;
            s.NowNs = 2_400 * Ms;
        });
        sim.Run(2_000);
        Assert.That(sim.PsiTriggerEvents(trigger), Is.EqualTo(events));
        Assert.That(sim.PsiTriggerPoll(trigger), Is.EqualTo(events.Length > 0), "poll: an event since the last poll (EPOLLPRI)");
        Assert.That(sim.PsiTriggerPoll(trigger), Is.False, "the poll cleared it");
    }

    /// <summary>
    /// window_update: a window part-way through adds the previous window's growth in proportion to what is left of it,
    /// that part kept in a u32 as in the kernel: 1 s into a 10 s window after one that grew 1 s, the 9 s left wraps to
    /// 410,065,408 ns, so the growth is 100 ms + 1 s × 410,065,408 / 10 s = 141,006,540 ns (not 1 s). Past the window's
    /// end a new window starts, the growth so far (300 ms) its previous growth.
    /// </summary>
    [Test]
    public void TheWindowInterpolatesThePreviousWindowsGrowth_WithTheKernelsU32RemainingTime()
    {
        var t = new PsiTrigger(state: 2, threshold: 1, windowSize: 10_000_000_000);
        t.ResetWindow(now: 0, value: 0, prevGrowth: 1_000_000_000);
        Assert.That(t.UpdateWindow(now: 1_000_000_000, value: 100_000_000), Is.EqualTo(141_006_540UL));
        Assert.That(t.UpdateWindow(now: 10_000_000_001, value: 300_000_000), Is.EqualTo(300_000_000UL), "a new window");
        Assert.That(t.UpdateWindow(now: 15_000_000_001, value: 350_000_000), Is.EqualTo(71_150_981UL),
            "50 ms + 300 ms × 705,032,704 / 10 s: the 5 s left wraps too");
    }

    /// <summary>
    /// psi_trigger_create's checks (kernel.org 6.1: windows of 500 ms to 10 s; a threshold of 1 µs to the window), each an
    /// argument error that leaves the simulation as it was, and its sscanf("some %u %u") as lib/vsprintf.c's vsscanf reads
    /// it: the word from the first character, no sign, blanks optional between the word and a number, numbers past
    /// 2^32 − 1 wrapping into the u32, anything after the second number ignored. A closed trigger, or one a restore took
    /// back, is gone, and its handle is never given to another; kernels before 4.20 have none.
    /// </summary>
    [Test]
    public void Triggers_AreReadAndCheckedAsPsiTriggerCreateReadsAndChecksThem()
    {
        var sim = Guest();
        foreach (var (text, name) in new[] { ("some 100 499999", "window_us"), ("some 100 10000001", "window_us"),
                     ("some 0 500000", "threshold_us"), ("full 500001 500000", "threshold_us"), ("half 1 500000", "trigger"),
                     ("some 1", "trigger"), ("some -1 500000", "trigger"), ("some +1 500000", "trigger"), (" some 1 500000", "trigger"),
                     ("some 4294967295 500000", "threshold_us") })
            Assert.That(() => sim.PsiTriggerCreate("memory", text), Throws.InstanceOf<ArgumentException>().With.Message.Contains(name), text);
        Assert.That(() => sim.PsiTriggerCreate("irq", "some 1 500000"), Throws.ArgumentException.With.Message.Contains("memory, io, cpu"));
        foreach (var text in new[] { "some100 500000", "full\t1 500000 and more", "some 4294967396 500000" }) // 2^32 + 100: 100
            Assert.That(sim.PsiTriggerEvents(sim.PsiTriggerCreate("memory", text)), Is.Empty, text);
        var snapshot = sim.Snapshot();
        int io = sim.PsiTriggerCreate("io", "full 500000 10000000");
        sim.Restore(snapshot);
        Assert.That(() => sim.PsiTriggerPoll(io), Throws.ArgumentException.With.Message.Contains("no open trigger"));
        int memory = sim.PsiTriggerCreate("memory", "some 1 500000");
        Assert.That(memory, Is.Not.EqualTo(io), "a handle a restore took back is not given again");
        Assert.That(() => sim.PsiTriggerPoll(io), Throws.ArgumentException.With.Message.Contains("no open trigger"));
        var fork = sim.Fork();
        int forked = fork.PsiTriggerCreate("io", "some 1 500000");
        Assert.That(forked, Is.Not.EqualTo(memory), "a fork counts handles on from its source");
        Assert.That(fork.PsiTriggerEvents(memory), Is.Empty, "the fork has its source's triggers");
        sim.PsiTriggerDestroy(memory);
        Assert.That(() => sim.PsiTriggerEvents(memory), Throws.ArgumentException.With.Message.Contains("no open trigger"));
        Assert.That(() => Guest("fixed").PsiTriggerCreate("memory", "some 1 500000"), Throws.InvalidOperationException.With.Message.Contains("4.20"));
    }

    /// <summary>
    /// Records the innermost call-path frame at each psi_memstall_enter and each sleep (its frame and length), and passes
    /// every call on to 6.1's PSI.
    /// </summary>
    private sealed class Spy : IPsi
    {
        private readonly Scheduler _scheduler;
        private readonly IPsi _psi;

        public Spy(Scheduler scheduler)
        {
            (_scheduler, _psi) = (scheduler, scheduler.Psi);
            scheduler.Psi = this;
        }

        public HashSet<string> Innermost { get; } = [];

        public List<(string Where, long Ns)> Sleeps { get; } = [];

        private readonly Dictionary<SimTask, (string Where, long SinceNs)> _asleep = [];

        public void TaskStarts(SimTask task) => _psi.TaskStarts(task);

        public bool TaskEnds(SimTask task) => _psi.TaskEnds(task);

        public void TaskSleeps(SimTask task, bool iowait)
        {
            string[] frames = task.Path.Snapshot();
            _asleep[task] = (frames.Length > 0 ? frames[^1] : "", _scheduler.NowNs);
            _psi.TaskSleeps(task, iowait);
        }

        public void TaskWakes(SimTask task)
        {
            if (_asleep.Remove(task, out var sleep)) Sleeps.Add((sleep.Where, _scheduler.NowNs - sleep.SinceNs));
            _psi.TaskWakes(task);
        }

        public PsiMemstall Memstall()
        {
            string[] frames = _scheduler.Current.Path.Snapshot();
            if (frames.Length > 0) Innermost.Add(frames[^1]);
            return _psi.Memstall();
        }
    }
}
