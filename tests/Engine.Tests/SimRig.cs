using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// A simulation composed exactly as <see cref="Simulation.Create"/> composes it (and so booted), with its
/// internal services at hand for tests that drive kernel functions directly. The test rigs of each area
/// (<see cref="Harness"/>, <see cref="Rig"/>, Balloon.BalloonRig) add their own helpers on top.
/// </summary>
internal class SimRig
{
    private readonly ServiceProvider _provider;

    public SimRig(SimulationOptions options)
    {
        _provider = new ServiceCollection().AddBalloonScript(options).BuildServiceProvider();
        Sim = Get<Simulation>();
    }

    public Simulation Sim { get; }
    public IServiceProvider Provider => _provider;
    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>The most anonymous pages one new process can fault in within what the allocator gives, with the page tables they need.</summary>
    public long AnonAllocatablePages()
    {
        // A PTE table per 2 MiB, a PMD table per GiB, a PUD table per 512 GiB of the process (ProcessPageTables).
        static long Tables(long pages) => (pages + 511 >> 9) + (pages + (1 << 18) - 1 >> 18) + (pages + (1L << 27) - 1 >> 27);
        long max = Get<Workload.Workload>().AllocatablePages(), n = max - Tables(max);
        while (n + 1 + Tables(n + 1) <= max) n++;
        return Math.Max(0, n);
    }
    public object Get(Type serviceType) => _provider.GetRequiredService(serviceType);
    public PageTable Pages => Get<PageTable>();
    public PageLists Lists => Get<PageLists>();
    public Node Node => Get<Node>();
    public BuddyAllocator Buddy => Get<BuddyAllocator>();
    public Sanitizer Sanitizer => Get<Sanitizer>();
    public Scheduler Scheduler => Get<Scheduler>();
    public VmStat VmStat => Get<VmStat>();
}
