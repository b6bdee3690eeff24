using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>Same seed, same result: every random choice comes from an explicit seed.</summary>
public class DeterminismTests
{
    private static Simulation Run(long seed, long freeSeed)
    {
        var sim = Simulation.Create(TestOptions.Classic(64, seed: seed));
        sim.WorkloadAnon(16);
        sim.WorkloadFile(8);
        sim.WorkloadSlab(2);
        sim.WorkloadFree(0.5, "random", freeSeed);
        sim.WorkloadAnon(4);
        return sim;
    }

    [Test]
    public void SameSeed_GivesTheSamePageMapBuddyinfoAndVmstat()
    {
        var a = Run(5, 11);
        var b = Run(5, 11);

        Assert.That(a.PageMap(), Has.Some.EqualTo((byte)PageKind.Anon).And.Some.EqualTo((byte)PageKind.Free), "a mixed, fragmented state");
        Assert.That(b.PageMap(), Is.EqualTo(a.PageMap()));
        Assert.That(b.Buddyinfo(), Is.EqualTo(a.Buddyinfo()));
        Assert.That(b.Pagetypeinfo(), Is.EqualTo(a.Pagetypeinfo()));
        Assert.That(b.VmstatValues(), Is.EqualTo(a.VmstatValues()));
        Assert.That(b.HistoryValues(), Is.EqualTo(a.HistoryValues()));
    }

    [Test]
    public void DifferentSeeds_GiveDifferentPageMaps()
    {
        Assert.That(Run(5, 12).PageMap(), Is.Not.EqualTo(Run(5, 11).PageMap()));
    }
}
