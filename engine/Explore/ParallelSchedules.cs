namespace BalloonScript.Engine.Explore;

/// <summary>
/// Independent schedules (random, pct, roundrobin) on several host threads (<see cref="HostThreads"/>), each on its group
/// of CPUs. Schedule i depends only on the race, the seed and i, so the threads take blocks of indices in turn and the
/// failures, put back in index order, are the serial exploration's, whatever the number of threads. Cancelled, the
/// result covers the schedules before the first block not run to its end.
/// </summary>
internal static class ParallelSchedules
{
    /// <summary>Schedules a thread takes at a time: enough that taking them costs nothing, few enough to share the end.</summary>
    public const int BlockSize = 32;

    /// <summary>One block a thread ran: how far it got and its failures.</summary>
    private sealed class Block(int first)
    {
        public int First { get; } = first;
        public int Schedules { get; set; }
        public List<FailureRecord> Failures { get; } = [];
    }

    /// <summary>One thread's blocks, in order, and its first failing schedule in full.</summary>
    private sealed record Share(List<Block> Blocks, ScheduleRun? FirstFailure);

    public static ExploreResult Explore(Race race, Func<Race, int, ScheduleRun> run, int start, int count, int[][] groups, CancellationToken cancel,
        ExploreProgress? progress)
    {
        int nextBlock = -1;
        var shares = HostThreads.Run(race, groups, cancel, (searched, stop) =>
        {
            var blocks = new List<Block>();
            ScheduleRun? first = null;
            for (int b; !stop.IsCancellationRequested && (b = Interlocked.Increment(ref nextBlock)) * BlockSize < count;)
            {
                var block = new Block(start + b * BlockSize);
                blocks.Add(block);
                for (int i = block.First; i < Math.Min(block.First + BlockSize, start + count) && !stop.IsCancellationRequested; i++)
                {
                    var schedule = run(searched, i);
                    if (schedule.Interrupted) break;
                    if (schedule.Failed)
                    {
                        block.Failures.Add(schedule.ToRecord());
                        first ??= schedule;
                    }
                    block.Schedules++;
                    progress?.Ran();
                }
            }
            return new Share(blocks, first);
        });
        var tally = new Explorer.Tally();
        int schedules = 0;
        foreach (var block in shares.SelectMany(s => s.Blocks).OrderBy(b => b.First))
        {
            if (block.First != start + schedules) break;
            foreach (var failure in block.Failures)
                tally.Add(failure, () => shares.First(s => s.FirstFailure?.Index == failure.Index).FirstFailure!.Renumbered(failure.Index, race));
            schedules += block.Schedules;
            if (block.Schedules < BlockSize) break;
        }
        return tally.Result(Math.Min(schedules, count), exhausted: false, schedulesLeft: null);
    }
}
