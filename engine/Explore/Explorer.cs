using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Runs many schedules of a race, each from the race's prepared state (restored, not rebuilt, so only the
/// interleaving differs), and keeps every failing schedule's index and the first one's full record.
/// Cancelling an exploration (Ctrl-C) stops it between schedules, or inside one at a preemption point or where its
/// kernel paths test for a fatal signal; the schedule it stopped in is not counted, and the result covers the
/// schedules run before it.
/// </summary>
public static class Explorer
{
    /// <summary>Explore schedules [<paramref name="start"/>, start + <paramref name="count"/>) of a preset by name.</summary>
    public static ExploreResult Explore(string scenario, string design, string strategy, int count, long seed, int start = 0, int pctDepth = 3,
        CancellationToken cancel = default, string reduction = "none", int threads = 0)
    {
        var spec = ScenarioCatalog.Find(scenario);
        var request = new ExploreRequest(strategy, seed, pctDepth, reduction, threads);
        CheckRange(request, start, count);
        return Explore(spec.Prepare(KernelDesign.Parse(design), seed), request, start, count, cancel);
    }

    /// <summary>The scenarios of the four defects (<see cref="Presets"/> has every named race).</summary>
    public static string[] Scenarios => ScenarioCatalog.Defects.Select(s => s.Name).ToArray();

    /// <summary>Every race that can be explored by name.</summary>
    public static string[] Presets => ScenarioCatalog.Names;

    /// <summary>One run of a preset by name with every path run to completion in order (no interleaving).</summary>
    public static ScheduleRun Run(string scenario, string design, long seed) =>
        ScenarioCatalog.Find(scenario).Prepare(KernelDesign.Parse(design), seed).Run(0, null);

    /// <summary>The number of schedules and the first one, as <see cref="Explore(Race, ExploreRequest, int, int, CancellationToken, ExploreProgress)"/> takes them.</summary>
    internal static void CheckRange(ExploreRequest request, int start, int count)
    {
        Check.InRange(count, "schedules", 1, 1_000_000);
        Check.InRange(start, "start", 0, int.MaxValue - count);
        Check.That(start == 0 || request.Strategy != "dfs", "start", "dfs explores from the first schedule: start must be 0");
    }

    internal static ExploreResult Explore(Race race, ExploreRequest request, int start, int count, CancellationToken cancel = default,
        ExploreProgress? progress = null)
    {
        var cpus = race.Tasks.Count > 1 ? HostThreads.Cpus(request.Threads) : [];
        if (request.Strategy == "dfs")
        {
            // Under a bound below 2 each unit is a schedule or two: cutting the others' short would cost as much as
            // running them.
            if (request.PctDepth >= 2 && cpus.Length > 1)
                return ParallelDfs.Explore(race, request.PctDepth, request.Reduction == "sleep-sets", count, cpus, cancel, progress);
            using var _ = race.Cancellable(cancel);
            using var pinned = CpuAffinity.Hold(); // every run's threads on this CPU (Scheduler)
            return ExploreDfs(race, request, count, cancel, progress);
        }
        long decisions = request.Strategy == "pct" ? Decisions(race) : 0;
        ScheduleRun Run(Race on, int i) => on.Run(i, StrategyFor(request, i, decisions), keepTrace: false);
        var groups = HostThreads.Groups(cpus, race.Tasks.Count, SpreadPays(race, StrategyFor(request, start, decisions)) && HostLoad.OthersIdle());
        if (groups.Length > 1 && count >= 2 * ParallelSchedules.BlockSize)
            return ParallelSchedules.Explore(race, Run, start, count, groups, cancel, progress);
        using (race.Cancellable(cancel))
        using (HostThreads.HoldAlone(groups))
        {
            var tally = new Tally();
            int i = start;
            for (; i < start + count && !cancel.IsCancellationRequested; i++)
            {
                var run = Run(race, i);
                if (run.Interrupted) break;
                tally.Add(run);
                progress?.Ran();
            }
            return tally.Result(i - start, exhausted: false, schedulesLeft: null);
        }
    }

    /// <summary>
    /// Runs on threads under a strategy that switches simulated CPUs at most of its decisions (random, round-robin) go
    /// faster spread over host CPUs of their own, one per simulated CPU, than as one run per host CPU: on this project's
    /// 2-CPU VMs (2 December, the two alternated), deflate-vs-isolate took 23–32 µs a schedule spread against 35–46 µs with
    /// two runs side by side (random), and 25–35 against 60–78 µs (roundrobin). PCT and DFS switch a few times a schedule
    /// (their preemption bound) and go faster side by side: PCT 13–21 µs against 20–29 µs spread. Runs as continuations
    /// take one host thread each and never spread. They spread only while other processes leave the CPUs idle
    /// (<see cref="HostLoad"/>).
    /// </summary>
    private static bool SpreadPays(Race race, IScheduleStrategy strategy) => strategy.SwitchesOften && !race.RunsAsContinuations(strategy);

    /// <summary>
    /// Every schedule within the preemption bound (at most <paramref name="count"/>), depth first; with sleep sets, one
    /// of each set of equivalent ones at least (runs cut short as redundant are not counted).
    /// </summary>
    private static ExploreResult ExploreDfs(Race race, ExploreRequest request, int count, CancellationToken cancel, ExploreProgress? progress)
    {
        SleepSets? sleepSets = null;
        using var tracking = request.Reduction == "sleep-sets" ? race.TrackAccesses(out sleepSets) : null;
        var dfs = new DfsStrategy(request.PctDepth, sleepSets);
        var tally = new Tally();
        int i = 0;
        long pruned = 0;
        while (!cancel.IsCancellationRequested)
        {
            var run = race.Run(i, dfs, keepTrace: false);
            if (run.Interrupted) break;
            if (run.Pruned) pruned++;
            else
            {
                tally.Add(run);
                progress?.Ran();
                if (++i == count) break;
            }
            if (!dfs.Advance()) break;
        }
        bool exhausted = !cancel.IsCancellationRequested && (dfs.Exhausted || (i == count && !dfs.Advance()));
        return tally.Result(i, exhausted, exhausted ? 0 : dfs.SchedulesLeftAtLeast(), request.Reduction, pruned, sleepSets?.Skipped ?? 0);
    }

    /// <summary>Failing schedules so far, in schedule order: by kind, each one's record, and the first one in full.</summary>
    internal sealed class Tally
    {
        private readonly SortedDictionary<string, int> _byKind = [];
        private readonly List<FailureRecord> _failures = [];
        private ScheduleRun? _first;

        public void Add(ScheduleRun run)
        {
            if (run.Failed) Add(run.ToRecord(), () => run);
        }

        /// <summary>A failing schedule's record; <paramref name="full"/> gives the schedule in full if it is the first.</summary>
        public void Add(FailureRecord record, Func<ScheduleRun> full)
        {
            _failures.Add(record);
            _first ??= full();
            foreach (var kind in record.Kinds) _byKind[kind] = _byKind.GetValueOrDefault(kind) + 1;
        }

        public ExploreResult Result(int schedules, bool exhausted, long? schedulesLeft, string reduction = "none", long pruned = 0, long skipped = 0) =>
            new(schedules, _byKind, _first, _failures, exhausted, schedulesLeft, reduction, pruned, skipped);
    }

    /// <summary>How many scheduling decisions a run of the race takes (PCT's k): one round-robin run.</summary>
    private static long Decisions(Race race) => Math.Max(1, race.Run(-1, new RoundRobinStrategy()).Choices.Count);

    private static IScheduleStrategy StrategyFor(ExploreRequest request, int index, long decisions)
    {
        long seed = request.ScheduleSeed(index);
        return request.Strategy switch
        {
            "random" => new RandomStrategy(seed),
            "pct" => new PctStrategy(seed, Math.Max(1, request.PctDepth), decisions),
            "roundrobin" => new RoundRobinStrategy(),
            _ => throw new ArgumentException($"unknown strategy {request.Strategy}"),
        };
    }
}
