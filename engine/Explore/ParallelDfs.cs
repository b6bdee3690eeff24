using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// The bounded DFS on several host threads (<see cref="HostThreads"/>).
/// The threads split the search by units (<see cref="DfsUnits"/>); the units' schedules, put back in unit order and
/// numbered from 0, are the serial search's: the same schedules in the same order, the same failures under the same
/// indices, the same first failure, exhaustion and, when the search stops at its maximum, the same number of schedules
/// left (the serial search's stack there is rebuilt from the unit's first decisions).
/// <para>
/// With sleep sets too: nothing sleeps before a run's first preemption (only a preempted path sleeps), so every thread
/// meets the same units with the same frames, each with the default path's step recorded by whichever run took it; a
/// unit's sleeper at its first preemption is that step, as in the serial search, and from there the thread that claimed
/// the unit searches it as the serial search does (the same runs cut short, the same options skipped).
/// </para>
/// </summary>
internal static class ParallelDfs
{
    /// <summary>The schedules of one unit a thread ran, and its failures (indices from the unit's first schedule).</summary>
    private sealed class UnitLog(int unit, int[] prefix)
    {
        public int Unit { get; } = unit;
        public int[] Prefix { get; } = prefix;
        public int Schedules { get; set; }
        /// <summary>
        /// With sleep sets, the thread's counts of runs cut short and options skipped: before the unit, after each of
        /// its schedules, and after its last run.
        /// </summary>
        public (long Pruned, long Skipped) ReductionAtStart { get; init; }
        public List<(long Pruned, long Skipped)> ReductionAfter { get; } = [];
        public (long Pruned, long Skipped) ReductionAtEnd { get; set; }
        /// <summary>The thread moved on past it (or the search ended in it): no schedule of the unit is missing.</summary>
        public bool Complete { get; set; }
        public List<FailureRecord> Failures { get; } = [];
    }

    /// <summary>One thread's share: the units it claimed, in order, whether it met the end of the search, and its first
    /// failing schedule in full (numbered within its unit).</summary>
    private sealed record Share(List<UnitLog> Units, bool Exhausted, UnitLog? FirstFailing, ScheduleRun? FirstFailure);

    public static ExploreResult Explore(Race race, int bound, bool reduce, int count, int[] cpus, CancellationToken cancel,
        ExploreProgress? progress)
    {
        var units = new DfsUnits();
        var groups = HostThreads.Groups(cpus, race.Tasks.Count, spread: false);
        var shares = HostThreads.Run(race, groups, cancel, (searched, stop) => Search(searched, bound, reduce, count, units, stop, progress));
        return Merge(race, bound, reduce, count, shares, cancel);
    }

    /// <summary>One thread's search: every schedule of the units it claims, up to <paramref name="count"/> of them.</summary>
    private static Share Search(Race race, int bound, bool reduce, int count, DfsUnits units, CancellationToken cancel,
        ExploreProgress? progress)
    {
        SleepSets? sleepSets = null;
        using var tracking = reduce ? race.TrackAccesses(out sleepSets) : null;
        var dfs = new DfsStrategy(bound, sleepSets, units);
        var logs = new List<UnitLog>();
        (UnitLog? Log, ScheduleRun? Run) first = default;
        int schedules = 0;
        long pruned = 0;
        bool exhausted = false;
        while (!cancel.IsCancellationRequested)
        {
            var counts = (pruned, sleepSets?.Skipped ?? 0);
            var run = race.Run(0, dfs, keepTrace: false);
            if (run.Interrupted) break;
            if (!dfs.Skipping)
            {
                if (logs.Count == 0 || logs[^1].Unit != dfs.Unit)
                {
                    if (logs.Count > 0) logs[^1].Complete = true;
                    logs.Add(new UnitLog(dfs.Unit, dfs.UnitPrefix()) { ReductionAtStart = counts });
                }
                var log = logs[^1];
                if (run.Pruned) pruned++;
                log.ReductionAtEnd = (pruned, sleepSets?.Skipped ?? 0);
                if (!run.Pruned)
                {
                    log.ReductionAfter.Add(log.ReductionAtEnd);
                    if (run.Failed)
                    {
                        log.Failures.Add(run.ToRecord() with { Index = log.Schedules });
                        if (first.Run is null) first = (log, run.Renumbered(log.Schedules));
                    }
                    log.Schedules++;
                    progress?.Ran();
                    if (++schedules == count)
                    {
                        exhausted = !dfs.Advance();
                        break;
                    }
                }
            }
            if (!dfs.Advance())
            {
                exhausted = true;
                break;
            }
        }
        if (logs.Count > 0) logs[^1].Complete |= exhausted;
        return new Share(logs, exhausted, first.Log, first.Run);
    }

    /// <summary>The units in order, each thread's part of the search put together, up to <paramref name="count"/> schedules or
    /// the first unit not run to its end (the search was cancelled, or its thread had run its maximum).</summary>
    private static ExploreResult Merge(Race race, int bound, bool reduce, int count, Share[] shares, CancellationToken cancel)
    {
        var byUnit = shares.SelectMany(s => s.Units).OrderBy(u => u.Unit).ToList();
        var tally = new Explorer.Tally();
        int schedules = 0;
        long pruned = 0, skipped = 0;
        UnitLog? last = null;
        int lastRuns = 0;
        for (int i = 0; i < byUnit.Count && schedules < count && byUnit[i].Unit == i; i++)
        {
            var log = byUnit[i];
            int take = Math.Min(log.Schedules, count - schedules);
            // What the serial search has counted after the same schedule: this unit's share of its thread's counts.
            var upTo = take == log.Schedules ? log.ReductionAtEnd : log.ReductionAfter[take - 1];
            pruned += upTo.Pruned - log.ReductionAtStart.Pruned;
            skipped += upTo.Skipped - log.ReductionAtStart.Skipped;
            // The first failure of the search is the first of the thread that ran it.
            foreach (var failure in log.Failures.TakeWhile(f => f.Index < take))
                tally.Add(failure with { Index = schedules + failure.Index },
                    () => shares.Single(s => s.FirstFailing == log).FirstFailure!.Renumbered(schedules + failure.Index, race));
            (last, lastRuns) = (log, take);
            schedules += take;
            if (!log.Complete) break;
        }
        bool exhausted = !cancel.IsCancellationRequested && shares.All(s => s.Exhausted) && schedules == byUnit.Sum(u => u.Schedules);
        long left = exhausted ? 0
            : cancel.IsCancellationRequested || last is null ? 1 : SchedulesLeftAfter(race, bound, reduce, last.Prefix, lastRuns);
        return tally.Result(schedules, exhausted, left, reduce ? "sleep-sets" : "none", pruned, skipped);
    }

    /// <summary>
    /// What the serial search would report as left after its schedule <paramref name="runs"/> of the unit that starts with
    /// <paramref name="prefix"/>: its stack there, rebuilt by running the unit's first schedules again.
    /// </summary>
    private static long SchedulesLeftAfter(Race race, int bound, bool reduce, int[] prefix, int runs)
    {
        using var pinned = CpuAffinity.Hold();
        SleepSets? sleepSets = null;
        using var tracking = reduce ? race.TrackAccesses(out sleepSets) : null;
        var dfs = new DfsStrategy(bound, sleepSets);
        if (reduce && prefix.Length > 0)
        {
            // The unit's sleeper is the default path's step at its first preemption: a run that takes the default there
            // records it.
            dfs.StartAt(prefix[..^1]);
            race.Run(0, dfs, keepTrace: false);
            dfs.ContinueAt(prefix);
        }
        else dfs.StartAt(prefix);
        for (int i = 0; i < runs;)
        {
            if (!race.Run(0, dfs, keepTrace: false).Pruned) i++;
            if (!dfs.Advance()) return 0;
        }
        return dfs.SchedulesLeftAtLeast();
    }
}
