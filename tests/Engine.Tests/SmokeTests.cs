using BalloonScript.Engine;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

public class SmokeTests
{
    [Test]
    public void Boot_PutsAllMemoryInOrder10Blocks()
    {
        var sim = Rig.Create(64).Sim;
        var blocks = sim.FreeBlocks();
        Assert.That(blocks[10], Is.EqualTo(64 * 256 / 1024), "64 MiB of 4 KiB pages in 1024-page blocks");
        Assert.That(blocks[..10], Is.All.Zero);
        Assert.That(sim.Reports, Is.Empty);
        TestContext.Out.WriteLine(sim.Buddyinfo());
        TestContext.Out.WriteLine(sim.Pagetypeinfo());
    }
}
