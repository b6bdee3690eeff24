using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// Options for tests that pin one v3.16 mechanism (the buddy allocator's merging, compaction's scanners, the
/// balloon's references): the model without the layers that would move pages or add paths around it — per-cpu
/// lists, pagevecs, reclaim and kswapd, the scheduler tick, the host's per-page time. Tests of those layers turn
/// them on explicitly.
/// </summary>
internal static class TestOptions
{
    public static SimulationOptions Classic(long memoryMib = 16, int cpus = 1, long seed = 0, string design = "legacy") => new()
    {
        MemoryMib = memoryMib, Cpus = cpus, Seed = seed, Design = KernelDesign.Parse(design),
        PerCpuLists = false, Pagevecs = false, Reclaim = false, TimesliceMs = 0, HostUsPerPage = 0,
    };
}
