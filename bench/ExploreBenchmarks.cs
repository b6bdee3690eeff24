using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// Race exploration throughput: the race (a 16 MiB guest, 2 CPUs, legacy) is prepared once; each schedule restores its
/// prepared state and runs the two kernel paths under a seeded random strategy as continuations on one thread (their
/// async twins), on one host CPU (the figure: schedules per second on one core) or on every host CPU (one search
/// per CPU); and, for comparison, the same schedules with each path on an OS thread of its own passing a baton.
/// </summary>
[MedianColumn]
public class ExploreBenchmarks
{
    private const int Schedules = 2_000;
    private Race _race = null!;
    private ExploreRequest _random = null!;
    private ExploreRequest _randomAllCpus = null!;

    [Params("deflate-vs-isolate", "scan-vs-migrate")]
    public string Scenario { get; set; } = "deflate-vs-isolate";

    [GlobalSetup]
    public void Prepare()
    {
        _race = ScenarioCatalog.Find(Scenario).Prepare(KernelDesign.Legacy, 1);
        _random = new ExploreRequest("random", 1, threads: 1);
        _randomAllCpus = new ExploreRequest("random", 1);
    }

    [Benchmark(OperationsPerInvoke = Schedules)]
    public int RandomSchedule() => Explorer.Explore(_race, _random, 0, Schedules).Failing;

    /// <summary>The same on every host CPU: one search per CPU.</summary>
    [Benchmark(OperationsPerInvoke = Schedules)]
    public int RandomScheduleAllCpus() => Explorer.Explore(_race, _randomAllCpus, 0, Schedules).Failing;

    /// <summary>The same schedules on OS threads, one host CPU: every switch a hand-off between two threads.</summary>
    [Benchmark(OperationsPerInvoke = Schedules)]
    public int RandomScheduleOnThreads()
    {
        _race.Scheduler.Continuations = Engine.Sched.ContinuationUse.Never;
        try { return Explorer.Explore(_race, _random, 0, Schedules).Failing; }
        finally { _race.Scheduler.Continuations = Engine.Sched.ContinuationUse.Fastest; }
    }

    /// <summary>The same race with every path run to completion: restore, run inline, checks (no thread hand-off).</summary>
    [Benchmark]
    public int InlineSchedule() => _race.Run(0, null).Reports.Count;
}
