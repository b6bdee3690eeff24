using BalloonScript.Engine.Explore;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// Race exploration throughput: each schedule builds a fresh 16 MiB guest, prepares the scenario and runs its
/// two kernel paths on baton-passing threads under a seeded random strategy.
/// </summary>
public class ExploreBenchmarks
{
    [Params("deflate-vs-isolate", "scan-vs-migrate")]
    public string Scenario { get; set; } = "deflate-vs-isolate";

    [Benchmark(OperationsPerInvoke = 50)]
    public int FiftySchedules() => Explorer.Explore(Scenario, "legacy", "random", 50, 1).Failing;
}
