using BalloonScript.Engine;
using BalloonScript.Engine.Designs;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// Memory pressure over simulated time (issue 9's targets), with the whole-memory checks after each operation on
/// and off (they are the simulator's debug checks, not the kernel's work). Each guest is built fresh before each
/// iteration; only the pressure is timed.
/// </summary>
[MemoryDiagnoser]
public class ReclaimBenchmarks
{
    private Simulation _sim = null!;

    [Params(true, false)]
    public bool CheckAccounting { get; set; }

    private Simulation NewGuest(long memoryMib, long swapMib = 0) => Simulation.Create(new SimulationOptions
    {
        MemoryMib = memoryMib, Design = KernelDesign.Fixed, Seed = 1, SwapMib = swapMib, CheckAccounting = CheckAccounting,
    });

    /// <summary>A 2 GiB guest whose memory is clean page cache; the host asks for a 1,152 MiB balloon.</summary>
    [IterationSetup(Target = nameof(KswapdReclaims1GiBOfCleanCache))]
    public void CleanCacheGuest()
    {
        _sim = NewGuest(2048);
        _sim.WorkloadFile(1950);
    }

    /// <summary>
    /// The balloon thread fills 1,152 MiB; its allocations keep waking kswapd, which reclaims 1 GiB of clean page
    /// cache (balance_pgdat to the high watermark, again and again). Target: ≤ 0.2 s.
    /// </summary>
    [Benchmark]
    public long KswapdReclaims1GiBOfCleanCache()
    {
        _sim.HostSetTarget(1152);
        _sim.Run(3000);
        return _sim.BalloonPages;
    }

    /// <summary>A 4 GiB guest: 2 GiB of page cache (10% dirty), 1.5 GiB of anon memory, 512 MiB of swap.</summary>
    [IterationSetup(Target = nameof(OneSimulatedMinuteUnderAMovingTarget))]
    public void BusyGuest()
    {
        _sim = NewGuest(4096, swapMib: 512);
        _sim.WorkloadFile(2048, dirty: 0.1);
        _sim.WorkloadAnon(1536);
    }

    /// <summary>The host moves its balloon target every 5 s for a simulated minute. Target: ≤ 5 s.</summary>
    [Benchmark]
    public long OneSimulatedMinuteUnderAMovingTarget()
    {
        foreach (double mib in MovingTargetMib)
        {
            _sim.HostSetTarget(mib);
            _sim.Run(5000);
        }
        return _sim.BalloonPages;
    }

    /// <summary>Balloon sizes in MiB the host asks for, one every 5 s.</summary>
    public static readonly double[] MovingTargetMib = [512, 2048, 1024, 1536, 256, 2048, 768, 1792, 512, 1280, 2048, 0];
}
