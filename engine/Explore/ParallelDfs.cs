using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// The bounded DFS on several host threads (<see cref="HostThreads"/>).
/// The threads split the search by units (<see cref="DfsUnits"/>); the units' schedules, put back in unit order and
/// numbered from 0, are the serial search's: the same schedules in the same order, the same failures under the same
/// indices, the same first failure, exhaustion and, when the search stops at its maximum, the same number of schedules
/// left (the serial search's stack there is rebuilt from the unit's first decisions).
/// </summary>
internal static class ParallelDfs
{
    /// <summary>The schedules of one unit a thread ran, and its failures (indices from the unit's first schedule).</summary>
    private sealed class UnitLog(int unit, int[] prefix)
    {
        public int Unit { get; } = unit;
        public int[] Prefix { get; } = prefix;
        public int Schedules { get; set; }
        /// <summary>The thread moved on past it (or the search ended in it): no schedule of the unit is missing.</summary>
        public bool Complete { get; set; }
        public List<FailureRecord> Failures { get; } = [];
    }

    /// <summary>One thread's share: the units it claimed, in order, whether it met the end of the search, and its first
    /// failing schedule in full (numbered within its unit).</summary>
    private sealed record Share(List<UnitLog> Units, bool Exhausted, UnitLog? FirstFailing, ScheduleRun? FirstFailure);

    public static ExploreResult Explore(Race race, int bound, int count, int[] cpus, CancellationToken cancel, ExploreProgress? progress)
    {
        var units = new DfsUnits();
        var groups = HostThreads.Groups(cpus, race.Tasks.Count, spread: false);
        var shares = HostThreads.Run(race, groups, cancel, (searched, stop) => Search(searched, bound, count, units, stop, progress));
        return Merge(race, bound, count, shares, cancel);
    }

    /// <summary>One thread's search: every schedule of the units it claims, up to <paramref name="count"/> of them.</summary>
    private static Share Search(Race race, int bound, int count, DfsUnits units, CancellationToken cancel, ExploreProgress? progress)
    {
        var dfs = new DfsStrategy(bound, null, units);
        var logs = new List<UnitLog>();
        (UnitLog? Log, ScheduleRun? Run) first = default;
        int schedules = 0;
        bool exhausted = false;
        while (!cancel.IsCancellationRequested)
        {
            var run = race.Run(0, dfs, keepTrace: false);
            if (run.Interrupted) break;
            if (!dfs.Skipping)
            {
                if (logs.Count == 0 || logs[^1].Unit != dfs.Unit)
                {
                    if (logs.Count > 0) logs[^1].Complete = true;
                    logs.Add(new UnitLog(dfs.Unit, run.Choices.Take(dfs.UnitDecisions).ToArray()));
                }
                var log = logs[^1];
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
    private static ExploreResult Merge(Race race, int bound, int count, Share[] shares, CancellationToken cancel)
    {
        var byUnit = shares.SelectMany(s => s.Units).OrderBy(u => u.Unit).ToList();
        var tally = new Explorer.Tally();
        int schedules = 0;
        UnitLog? last = null;
        int lastRuns = 0;
        for (int i = 0; i < byUnit.Count && schedules < count && byUnit[i].Unit == i; i++)
        {
            var log = byUnit[i];
            int take = Math.Min(log.Schedules, count - schedules);
            // The first failure of the search is the first of the thread that ran it.
            foreach (var failure in log.Failures.TakeWhile(f => f.Index < take))
                tally.Add(failure with { Index = schedules + failure.Index },
                    () => shares.Single(s => s.FirstFailing == log).FirstFailure!.Renumbered(schedules + failure.Index, race));
            (last, lastRuns) = (log, take);
            schedules += take;
            if (!log.Complete) break;
        }
        bool exhausted = !cancel.IsCancellationRequested && shares.All(s => s.Exhausted) && schedules == byUnit.Sum(u => u.Schedules);
        long left = exhausted ? 0 : cancel.IsCancellationRequested || last is null ? 1 : SchedulesLeftAfter(race, bound, last.Prefix, lastRuns);
        return tally.Result(schedules, exhausted, left);
    }

    /// <summary>
    /// What the serial search would report as left after its schedule <paramref name="runs"/> of the unit that starts with
    /// <paramref name="prefix"/>: its stack there, rebuilt by running the unit's first schedules again.
    /// </summary>
    private static long SchedulesLeftAfter(Race race, int bound, int[] prefix, int runs)
    {
        using var pinned = CpuAffinity.Hold();
        var dfs = new DfsStrategy(bound);
        dfs.StartAt(prefix);
        for (int i = 0; i < runs; i++)
        {
            race.Run(0, dfs, keepTrace: false);
            if (!dfs.Advance()) return 0;
        }
        return dfs.SchedulesLeftAtLeast();
    }
}
