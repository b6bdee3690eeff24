using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Runs one search per host CPU given, side by side: each on a thread of its own pinned to its CPU (its switching runs'
/// threads follow it there, <see cref="Scheduler"/>), with the race itself on the first and a twin of it
/// (<see cref="Race.Twin"/>) on each other one. A search that fails stops the others.
/// </summary>
internal static class HostThreads
{
    public static T[] Run<T>(Race race, int[] cpus, CancellationToken cancel, Func<Race, CancellationToken, T> search)
    {
        var results = new T[cpus.Length];
        var errors = new Exception?[cpus.Length];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var threads = new Thread[cpus.Length];
        for (int t = 0; t < cpus.Length; t++)
        {
            int thread = t;
            var searched = thread == 0 ? race : race.Twin(thread - 1);
            threads[t] = new Thread(() =>
            {
                try
                {
                    using var pinned = CpuAffinity.Hold(cpus[thread]);
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
}
