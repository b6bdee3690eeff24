using BalloonScript.Engine;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Bench;

/// <summary>
/// The buddy allocator's hot paths. Anchors (design.md §6): the kernel takes ~94 ns per order-0 and ~2.6 µs
/// per order-9 allocation (LLFree, ATC'23); the simulator should not be slower than what it simulates.
/// Each operation is an allocation followed by its free, so the state is the same at every iteration. The v6.1
/// allocator (per-cpu lists for orders 0–3 and THP, the 6.1 watermark test) should stay within 2× of v3.16's.
/// </summary>
[MemoryDiagnoser]
public class BuddyBenchmarks
{
    private IBuddyAllocator _buddy = null!;

    [Params(0, 9)]
    public int Order { get; set; }

    [Params("legacy", "v6.1")]
    public string Design { get; set; } = "legacy";

    [GlobalSetup]
    public void Setup()
    {
        var sp = new ServiceCollection().AddBalloonScript(new SimulationOptions { MemoryMib = 4096, Cpus = 1, Design = KernelDesign.Parse(Design) })
            .BuildServiceProvider();
        sp.GetRequiredService<Simulation>();
        _buddy = sp.GetRequiredService<IBuddyAllocator>();
        // Fragment a little so order-0 requests split and merge rather than hitting a cached single page.
        for (int i = 0; i < 1000; i++) _buddy.GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkLow);
    }

    [Benchmark(OperationsPerInvoke = 64)]
    public void AllocFree()
    {
        Span<int> pfns = stackalloc int[64];
        for (int i = 0; i < 64; i++) pfns[i] = _buddy.GetPageFromFreelist(Order, Gfp.HighUserMovable, AllocFlags.WmarkLow);
        for (int i = 63; i >= 0; i--) _buddy.PutPage(pfns[i], Order);
    }
}
