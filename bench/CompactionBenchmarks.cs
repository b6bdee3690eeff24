using BalloonScript.Engine;
using BalloonScript.Engine.Designs;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// compact_memory on a fragmented guest: 1 GiB, anon filling what the allocator gives, every other page
/// freed, a 128 MiB balloon in the holes. Built fresh before each iteration (compaction changes it).
/// </summary>
[MemoryDiagnoser]
public class CompactionBenchmarks
{
    private Simulation _sim = null!;

    [Params("legacy", "redesign")]
    public string Design { get; set; } = "legacy";

    [IterationSetup]
    public void Setup()
    {
        _sim = Simulation.Create(new SimulationOptions { MemoryMib = 1024, Design = KernelDesign.Parse(Design), Cpus = 1, Seed = 1, CheckAccounting = false });
        _sim.WorkloadAnon(900);
        _sim.WorkloadFree(0.5, "interleave", 1);
        _sim.BalloonInflate(128);
    }

    [Benchmark]
    public long CompactMemory() => _sim.Compact().Migrated;
}
