using BalloonScript.Engine;
using BalloonScript.Engine.Designs;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// The virtio balloon on a 2 GiB guest with the default options (checks after each operation on): inflating
/// 512 MiB, and deflating it again (issue 13's row: ≤ 10 ms each; a 6.1 guest under QEMU emulation takes
/// 0.37–0.43 s / 0.18–0.23 s). Each guest is built fresh before each iteration; only the balloon call is timed.
/// Two designs: legacy (the default, v3.16's driver and balloon) and v6.1 (its driver, which allocates a batch
/// of pages before it takes balloon_lock, and balloon_page_list_enqueue).
/// </summary>
[MemoryDiagnoser]
public class BalloonBenchmarks
{
    private Simulation _sim = null!;

    [Params("legacy", "v6.1")]
    public string Design { get; set; } = "legacy";

    [IterationSetup(Target = nameof(Inflate512MiB))]
    public void EmptyBalloon() =>
        _sim = Simulation.Create(new SimulationOptions { MemoryMib = 2048, Seed = 1, Design = KernelDesign.Parse(Design) });

    [Benchmark]
    public long Inflate512MiB() => _sim.BalloonInflate(512);

    [IterationSetup(Target = nameof(Deflate512MiB))]
    public void FullBalloon()
    {
        EmptyBalloon();
        _sim.BalloonInflate(512);
    }

    [Benchmark]
    public long Deflate512MiB() => _sim.BalloonDeflate(512);
}
