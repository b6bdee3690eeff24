using System.Diagnostics;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Perf;

/// <summary>
/// Issue 13's regression guard: no target is timed here (they live in bench/ and BENCHMARKS.md), only ratios of two
/// quick measurements taken in the same run, interleaved, the median of a few rounds each, so a slow or loaded machine
/// slows both sides alike. A bound is several times the ratio measured when it was set (BENCHMARKS.md), so only a
/// large regression fails; each test prints its ratio.
/// </summary>
[NonParallelizable]
public class RatioGuardTests
{
    private const int Rounds = 7;

    /// <summary>
    /// An order-9 allocate + free pair against an order-0 pair. The order-9 pair must not go back to checking and writing
    /// its 512 pages one by one (77–131× the order-0 pair here when it did; about 11 with whole-column checks).
    /// </summary>
    [Test]
    public void Order9Pair_AgainstOrder0Pair()
    {
        var buddy = WarmBuddy();
        const int reps0 = 2000, reps9 = 200;
        var (order0, order9) = Interleaved(Pairs(buddy, 0, reps0), Pairs(buddy, 9, reps9));

        TestContext.Out.WriteLine($"per pair: order-0 {order0 / reps0 / PairsPerRep * 1e9:F0} ns, order-9 {order9 / reps9 / PairsPerRep * 1e9:F0} ns");
        AssertRatio("order-9 pair / order-0 pair", (order9 / reps9) / (order0 / reps0), Bound.Order9Pair);
    }

    /// <summary>
    /// Faulting pages in, inflating and deflating the balloon, per page, against an order-0 allocate + free pair: the
    /// per-page paths of the balloon rows and of the 64 GiB run (do_anonymous_page's set-up with lru_cache_add,
    /// balloon_page_enqueue with tell_host, the dequeue walk with release_pages_by_pfn, and the checks after each
    /// operation) must stay a small multiple of the page allocation or free each of them makes.
    /// </summary>
    [Test]
    public void PopulateInflateDeflatePerPage_AgainstOrder0Pair()
    {
        const double mib = 16;
        const int pages = (int)(mib * 256), reps0 = 500;
        var guest = Simulation.Create(new SimulationOptions { MemoryMib = 256, Seed = 1, CheckAccounting = true });
        var pairs = Pairs(WarmBuddy(), 0, reps0);
        var (operations, order0) = Interleaved(Restored(guest, sim =>
        {
            sim.WorkloadAnon(mib);
            sim.BalloonInflate(mib);
            sim.BalloonDeflate(mib);
        }), () => Seconds(pairs));

        double perPage = operations / (3 * pages), perPair = order0 / reps0 / PairsPerRep;
        TestContext.Out.WriteLine($"per page: {perPage * 1e9:F0} ns (populate, inflate, deflate), per order-0 pair {perPair * 1e9:F0} ns");
        AssertRatio("populate, inflate and deflate per page / order-0 pair", perPage / perPair, Bound.PerPageOperations);
    }

    private const int PairsPerRep = 64;

    /// <summary>A 1 GiB guest's buddy allocator, fragmented a little so that order-0 requests split and merge blocks.</summary>
    private static IBuddyAllocator WarmBuddy()
    {
        var buddy = Rig.Create(new SimulationOptions { MemoryMib = 1024, Cpus = 1 }).Buddy;
        for (int i = 0; i < 1000; i++) buddy.GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkLow);
        return buddy;
    }

    /// <summary><paramref name="reps"/> times: 64 blocks of 2^<paramref name="order"/> pages allocated, then freed.</summary>
    private static Action Pairs(IBuddyAllocator buddy, int order, int reps)
    {
        var pfns = new int[PairsPerRep];
        return () =>
        {
            for (int r = 0; r < reps; r++)
            {
                for (int i = 0; i < pfns.Length; i++) pfns[i] = buddy.GetPageFromFreelist(order, Gfp.HighUserMovable, AllocFlags.WmarkLow);
                for (int i = pfns.Length - 1; i >= 0; i--) buddy.PutPage(pfns[i], order);
            }
        };
    }

    /// <summary>
    /// compact_memory per page it migrated against migrate_pages per page of a list of isolated pages: the scanners'
    /// share of compaction must stay a small multiple of the migration itself.
    /// </summary>
    [Test]
    public void CompactionPerMigratedPage_AgainstMigratePagesPerPage()
    {
        long migrated = 0;
        const int listed = 2048;
        var (compaction, migration) = Interleaved(
            Prepared(() => Rig.Create(256).FragmentedAnon(), rig => migrated = rig.Sim.Compact().Migrated),
            Prepared(() =>
            {
                var rig = Rig.Create(256);
                rig.Sim.WorkloadAnon(16);
                return (rig, list: rig.IsolateLruPages(rig.Node.LargestZone, listed));
            }, p => p.rig.RunOnCpu0(() => p.rig.Get<Migration>().MigratePages(p.list,
                _ => p.rig.Buddy.GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkMin), null, MigrateMode.Sync))));
        Assert.That(migrated, Is.Positive);

        AssertRatio("compaction per migrated page / migrate_pages per page", (compaction / migrated) / (migration / listed),
            Bound.CompactionPerMigratedPage);
    }

    /// <summary>
    /// Small operations (populate 64 pages, inflate one page, deflate one page) with the whole-memory checks after each,
    /// on a 4 GiB guest with a 1 GiB balloon against a 64 MiB one with a 16 MiB balloon: the checks' cost must follow
    /// what the operation changed, not the size of the guest or of its balloon (the full check after every operation
    /// made this ratio about 80 without a balloon; the walk of the whole balloon list after each, BENCHMARKS.md).
    /// </summary>
    [Test]
    public void SmallOperationWithChecks_LargeGuestAgainstSmall()
    {
        Simulation Guest(int mib)
        {
            var sim = Simulation.Create(new SimulationOptions { MemoryMib = mib, Seed = 1, CheckAccounting = true });
            sim.WorkloadAnon(mib / 2);
            sim.WorkloadFree(0.5, "interleave", 1);
            sim.BalloonInflate(mib / 4);
            return sim;
        }
        var (large, small) = Interleaved(Restored(Guest(4096), SmallOps), Restored(Guest(64), SmallOps));

        AssertRatio("small operations with checks, 4 GiB guest / 64 MiB guest (balloons of a quarter)", large / small, Bound.Checks);
    }

    /// <summary>
    /// The same small operations on a 64 MiB guest with 4 GiB of swap against one without: the data check after each must
    /// add up the swap area's running sums, not read its million slots (which made this ratio 18.4–18.5; 0.98 since).
    /// </summary>
    [Test]
    public void SmallOperationWithChecks_GuestWithSwapAgainstWithout()
    {
        Simulation Guest(int swapMib)
        {
            var sim = Simulation.Create(new SimulationOptions { MemoryMib = 64, SwapMib = swapMib, Seed = 1, CheckAccounting = true });
            sim.WorkloadAnon(32);
            sim.BalloonInflate(16);
            return sim;
        }
        var (withSwap, without) = Interleaved(Restored(Guest(4096), SmallOps), Restored(Guest(0), SmallOps));

        AssertRatio("small operations with checks, 64 MiB guest with 4 GiB of swap / without", withSwap / without, Bound.SwapChecks);
    }

    /// <summary>Twenty rounds of populating 64 pages, inflating one page and deflating one page, each checked after.</summary>
    private static void SmallOps(Simulation sim)
    {
        for (int i = 0; i < 20; i++)
        {
            sim.WorkloadAnon(0.25);
            sim.BalloonInflate(1 / 256.0);
            sim.BalloonDeflate(1 / 256.0);
        }
    }

    /// <summary>
    /// Random schedules of deflate-vs-isolate (legacy) run as continuations against the same race's paths run to
    /// completion, one after the other (no switch; the same restore, settling and checks): what a switching run adds, the
    /// async twins' hand-offs and the strategy's choices, must stay a small multiple of the run itself (about 4 in steady
    /// state: 30 against 7.3 µs a run, 7 December), and every run must go as continuations. Until 7 December this guard
    /// compared the same schedules on OS threads, which measures the host's thread hand-off as much as the code: 0.35
    /// when set (4 December), 0.78 in steady state and 0.8–1.5 while the twins were still being compiled on 6–7
    /// December with the code of both days (BENCHMARKS.md, "thirty-seventh session").
    /// </summary>
    [Test]
    public void RandomScheduleAsContinuations_AgainstRunToCompletion()
    {
        var race = ScenarioCatalog.Find("deflate-vs-isolate").Prepare(KernelDesign.Legacy, 1);
        race.Scheduler.Continuations = ContinuationUse.Always;
        // Four times as many runs to completion as switching runs, so that the two sides' turns last about as long (9 and
        // 8 ms steady): a turn of 2 ms mostly fits between two preemptions by the other processes of make test and one of
        // 9 ms mostly does not, so under load the two medians inflated unequally (9.8 and, with an unfinished
        // warm-up's share, 16.5 in make test against 4.4 steady; BENCHMARKS.md, thirty-ninth session).
        const int schedules = 300, completions = 4 * schedules;
        long switchingRuns = 0;
        Action Runs(int runs, Func<int, IScheduleStrategy?> strategy) => () =>
        {
            for (int i = 0; i < runs; i++)
            {
                var s = strategy(i);
                if (s is not null) switchingRuns++;
                race.Run(i, s, keepTrace: false);
            }
        };
        long continuationRuns = race.Scheduler.ContinuationRuns, neededThreads = race.Scheduler.NeededThreads;
        var (turnContinued, turnCompleted) = Interleaved(Runs(schedules, i => new RandomStrategy(i)), Runs(completions, _ => null));
        double continued = turnContinued / schedules, completed = turnCompleted / completions;
        Assert.That(race.Scheduler.NeededThreads, Is.EqualTo(neededThreads), "no run fell back to threads");
        Assert.That(race.Scheduler.ContinuationRuns - continuationRuns, Is.EqualTo(switchingRuns), "every switching run as continuations");
        TestContext.Out.WriteLine($"per run: random schedule as continuations {continued * 1e6:F1} µs, run to completion {completed * 1e6:F1} µs");
        AssertRatio("random schedule as continuations / run to completion", continued / completed, Bound.ContinuationsAgainstRunToCompletion);
    }

    /// <summary>
    /// The bounds: 3–10× the ratios measured when they were set (Release, a loaded 2-core machine; BENCHMARKS.md,
    /// "Regression guard"), and well below what the regressions they guard against measured.
    /// </summary>
    private static class Bound
    {
        public const double ContinuationsAgainstRunToCompletion = 12;
        public const double Order9Pair = 40;
        public const double CompactionPerMigratedPage = 12;
        public const double Checks = 5;
        public const double SwapChecks = 4;
        public const double PerPageOperations = 10;
    }

    private static void AssertRatio(string what, double ratio, double bound)
    {
        TestContext.Out.WriteLine($"{what}: {ratio:F2} (bound {bound})");
        Assert.That(ratio, Is.LessThan(bound), what);
    }

    /// <summary>A measurement whose state is set up afresh (untimed) before each timed run.</summary>
    private static Func<double> Prepared<T>(Func<T> setUp, Action<T> timed) => () =>
    {
        var state = setUp();
        // The garbage of the previous round's state (a large guest's page arrays) is collected now, not by a background
        // collection while this round is timed; and the timed part (a few ms) starts after a short sleep, not at the end
        // of a long setup's time slice, where the other suites of make test are likelier to preempt it: once in four make
        // test runs (4 December, old main) the large guest's checks measured 6.3 times the small one's, against 1.0 alone.
        GC.Collect();
        Thread.Sleep(1);
        return Seconds(() => timed(state));
    };

    /// <summary>
    /// <see cref="Prepared"/> for a guest built once: each round restores its snapshot (the pages the last round wrote
    /// are copied back, and the checks' state with them, so the checks after the timed operations look at what those
    /// changed, as on the guest just built), not a new guest of up to 4 GiB built for each round.
    /// </summary>
    private static Func<double> Restored(Simulation sim, Action<Simulation> timed)
    {
        var built = sim.Snapshot();
        return Prepared(() =>
        {
            sim.Restore(built);
            return sim;
        }, timed);
    }

    /// <summary>Median of <see cref="Rounds"/> for each, a and b taking turns, after a warm-up; in seconds.</summary>
    private static (double A, double B) Interleaved(Action a, Action b) => Interleaved(() => Seconds(a), () => Seconds(b));

    private static (double A, double B) Interleaved(Func<double> a, Func<double> b)
    {
        // Warm-up until the code measured has its final compilation: at least 0.5 s, then until neither side's fastest
        // turn has improved by more than 5 % for 5 turns, at most 10 s. The tiered compiler counts a method's calls only
        // once 10 ms have passed without a new method called (Directory.Build.props), make test compiles a method again
        // only after 1,000 calls, and the background compiler works through a queue that in a process which has run a
        // thousand tests is long. A fixed 0.5 s, then 2 s, left the continuations' code (the async twins) still being
        // compiled on 7 December: 125 against 7.6 µs a run in make test (16.5), and in the NUnit suite alone their
        // rounds fell from 30 to 14 ms while measured (7.1), against 28.7 and 6.5 µs (4.4) once compiled.
        var warm = Stopwatch.StartNew();
        double bestA = double.MaxValue, bestB = double.MaxValue;
        for (int calm = 0; warm.Elapsed.TotalSeconds < 10 && (warm.Elapsed.TotalSeconds < 0.5 || calm < 5);)
        {
            var (ta, tb) = (a(), b());
            calm = ta < 0.95 * bestA || tb < 0.95 * bestB ? 0 : calm + 1;
            (bestA, bestB) = (Math.Min(bestA, ta), Math.Min(bestB, tb));
        }
        var (timesA, timesB) = (new double[Rounds], new double[Rounds]);
        for (int r = 0; r < Rounds; r++) (timesA[r], timesB[r]) = (a(), b());
        TestContext.Out.WriteLine($"warm-up {warm.Elapsed.TotalSeconds:F1} s; rounds (ms): {Fmt(timesA)} against {Fmt(timesB)}");
        return (Median(timesA), Median(timesB));
    }

    private static string Fmt(double[] seconds) => string.Join(" ", seconds.Select(t => (t * 1e3).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));

    private static double Median(double[] times)
    {
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static double Seconds(Action body)
    {
        var sw = Stopwatch.StartNew();
        body();
        return sw.Elapsed.TotalSeconds;
    }
}
