using BalloonScript.Engine;
using BalloonScript.Engine.Designs;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// compact_memory on fragmented guests, built fresh before each iteration (compaction changes them), with the
/// whole-memory checks off so that only the kernel's work is timed. Two designs: v3.16's compaction (legacy; the
/// v3.18 designs share it) and v6.1's.
/// </summary>
[MemoryDiagnoser]
public class CompactionBenchmarks
{
    private Simulation _sim = null!;

    [Params("legacy", "v6.1")]
    public string Design { get; set; } = "legacy";

    /// <summary>1 GiB, anon filling what the allocator gives, every other page freed, a 128 MiB balloon in the holes.</summary>
    [IterationSetup(Target = nameof(CompactMemory1GiBWithBalloon))]
    public void SmallGuest()
    {
        _sim = Fragmented(1024, 900);
        _sim.BalloonInflate(128);
    }

    [Benchmark]
    public long CompactMemory1GiBWithBalloon() => _sim.Compact().Migrated;

    /// <summary>16 GiB, 15 GiB of anon memory with every other page freed (issue 13's row: ≤ 0.25 s).</summary>
    [IterationSetup(Target = nameof(CompactMemory16GiB))]
    public void LargeGuest() => _sim = Fragmented(16384, 15360);

    [Benchmark]
    public long CompactMemory16GiB() => _sim.Compact().Migrated;

    private Simulation Fragmented(long memoryMib, double anonMib)
    {
        var sim = Simulation.Create(new SimulationOptions
        {
            MemoryMib = memoryMib, Design = KernelDesign.Parse(Design), Cpus = 1, Seed = 1, CheckAccounting = false,
        });
        sim.WorkloadAnon(anonMib);
        sim.WorkloadFree(0.5, "interleave", 1);
        return sim;
    }
}
