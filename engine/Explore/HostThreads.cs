using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Runs one search per group of host CPUs given, side by side: each on a thread of its own held on its group (a single
/// CPU: its switching runs' threads follow it there; several: its runs spread over them, <see cref="Hold"/>), with the
/// race itself on the first and a twin of it (<see cref="Race.Twin"/>) on each other one. A search that fails stops the others.
/// </summary>
internal static class HostThreads
{
    public static T[] Run<T>(Race race, int[][] groups, CancellationToken cancel, Func<Race, CancellationToken, T> search)
    {
        var results = new T[groups.Length];
        var errors = new Exception?[groups.Length];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var threads = new Thread[groups.Length];
        for (int t = 0; t < groups.Length; t++)
        {
            int thread = t;
            var searched = thread == 0 ? race : race.Twin(thread - 1);
            threads[t] = new Thread(() =>
            {
                try
                {
                    using var held = Hold(groups[thread]);
                    using var _ = searched.Cancellable(stop.Token);
                    results[thread] = search(searched, stop.Token);
                }
                catch (Exception e)
                {
                    errors[thread] = e;
                    stop.Cancel();
                }
            }, 1 << 20) { IsBackground = true, Name = "exploration" };
        }
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        if (errors.FirstOrDefault(e => e is not null) is { } error)
            throw new InvalidOperationException($"a thread of the exploration failed: {error.Message}", error);
        return results;
    }

    /// <summary>The host CPUs an exploration runs on: the first <paramref name="threads"/> the process may use (0: all of them).</summary>
    public static int[] Cpus(int threads)
    {
        var allowed = CpuAffinity.Allowed();
        return threads == 0 || threads >= allowed.Length ? allowed : allowed[..threads];
    }

    /// <summary>
    /// The searches to run side by side on <paramref name="cpus"/>: one per CPU; or, <paramref name="spread"/>, one per
    /// <paramref name="tasks"/> CPUs, each run's simulated CPUs on host CPUs of their own (any CPUs left over search on
    /// their own). Empty where no CPU can be held.
    /// </summary>
    public static int[][] Groups(int[] cpus, int tasks, bool spread)
    {
        if (!spread || tasks < 2 || cpus.Length < tasks) return [.. cpus.Select(cpu => new[] { cpu })];
        int whole = cpus.Length / tasks * tasks;
        return [.. cpus[..whole].Chunk(tasks), .. cpus[whole..].Select(cpu => new[] { cpu })];
    }

    /// <summary>Hold the calling thread on <paramref name="group"/>: pinned to its one CPU, or spread over its CPUs.</summary>
    public static IDisposable? Hold(int[] group) => group.Length > 1 ? CpuAffinity.HoldSpread(group) : CpuAffinity.Hold(group[0]);

    /// <summary>
    /// Hold the calling thread for a search that runs on it alone: spread over <paramref name="groups"/>' first group if it
    /// has several CPUs, else pinned to the CPU it is on (not the first CPU given: searches of one CPU each in several
    /// processes, as a sweep's or a cluster's workers run them, then stay where the OS spread them).
    /// </summary>
    public static IDisposable? HoldAlone(int[][] groups) =>
        groups is [{ Length: > 1 } group, ..] ? CpuAffinity.HoldSpread(group) : CpuAffinity.Hold();
}
