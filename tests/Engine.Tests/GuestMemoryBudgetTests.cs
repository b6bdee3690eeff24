using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>A guest too large for this machine's memory is refused up front, naming memory_mib and the memory it needs.</summary>
[NonParallelizable]
public class GuestMemoryBudgetTests
{
    [TearDown]
    public void RealMemoryAgain() => GuestMemoryBudget.FakeAvailableBytes = null;

    [Test]
    public void Create_GuestLargerThanTheMemoryAvailable_IsRefusedNamingWhatItNeeds()
    {
        GuestMemoryBudget.FakeAvailableBytes = 16L << 20;

        var e = Assert.Throws<ArgumentException>(() => Simulation.Create(new SimulationOptions { MemoryMib = 2048 }))!;

        long needed = (2048L * 256 * GuestMemoryBudget.BytesPerPage + (1 << 20) - 1) >> 20;
        Assert.That(e.ParamName, Is.EqualTo("memory_mib"));
        Assert.That(e.Message, Does.StartWith($"memory_mib: a 2048 MiB guest needs about {needed} MiB of memory")
            .And.Contain("but this machine has 16 MiB available"));
        Assert.That(Simulation.Create(new SimulationOptions { MemoryMib = 16 }).NrPages, Is.EqualTo(4096), "a guest that fits is built");
    }

    [Test]
    public void BytesPerPage_IsWhatAGuestAllocates()
    {
        var options = new SimulationOptions { MemoryMib = 1024 };
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sim = Simulation.Create(options);
        sim.WorkloadAnon(512);
        sim.WorkloadFree(0.5, "random", 1);
        sim.BalloonInflate(128);
        long perPage = (GC.GetAllocatedBytesForCurrentThread() - before) / options.NrPages;

        Assert.That(perPage, Is.InRange(GuestMemoryBudget.BytesPerPage * 3 / 4, GuestMemoryBudget.BytesPerPage * 5 / 4),
            "boot, a workload that fills and frees half the guest, and a balloon");
    }
}
