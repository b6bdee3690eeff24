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
        Assert.That(blocks[10], Is.EqualTo(16));
        Assert.That(sim.Reports, Is.Empty);
        TestContext.Out.WriteLine(sim.Buddyinfo());
        TestContext.Out.WriteLine(sim.Pagetypeinfo());
    }
}
