using BalloonScript.Engine.Designs;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// Wrong input is an ArgumentException (or subclass) whose message names the argument and the allowed range,
/// and it leaves the simulation exactly as it was and still usable.
/// </summary>
public class BadInputTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        yield return new TestCaseData(new SimulationOptions { Design = null! }, "design", TestDesigns.Listed).SetName("Create_NullDesign");
        foreach (long mib in new[] { 0L, 15L, 1_000_000L, -1L })
            yield return new TestCaseData(new SimulationOptions { MemoryMib = mib }, "memory_mib", "[16, 65536]").SetName($"Create_MemoryMib({mib})");
        yield return new TestCaseData(new SimulationOptions { Cpus = 0 }, "cpus", "[1, 64]").SetName("Create_Cpus(0)");
        yield return new TestCaseData(new SimulationOptions { Cpus = 65 }, "cpus", "[1, 64]").SetName("Create_Cpus(65)");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Create_RejectsBadOptions(SimulationOptions options, string argument, string range)
    {
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => Simulation.Create(options)) as ArgumentException;

        Assert.That(e!.ParamName, Is.EqualTo(argument));
        Assert.That(e.Message, Does.Contain(argument).And.Contain(range));
    }

    [Test]
    public void Parse_UnknownDesign_NamesTheArgumentAndEveryDesign()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelDesign.Parse("zigzag"))!;

        Assert.That(e.ParamName, Is.EqualTo("design"));
        Assert.That(e.Message, Does.Contain("design").And.Contain(TestDesigns.Listed).And.Contain("zigzag"));
    }

    public static IEnumerable<TestCaseData> BadCalls()
    {
        TestCaseData Case(string name, Action<Simulation> call, string argument, string range) =>
            new TestCaseData(call, argument, range).SetName(name);
        foreach (int order in new[] { -1, 11 })
        {
            yield return Case($"ExtfragIndex({order})", s => s.ExtfragIndex(order), "order", "[0, 10]");
            yield return Case($"UnusableIndex({order})", s => s.UnusableIndex(order), "order", "[0, 10]");
        }
        foreach (double fraction in new[] { -0.1, 1.5, double.NaN })
            yield return Case($"WorkloadFree(fraction {fraction})", s => s.WorkloadFree(fraction, "random", 1), "fraction", "[0, 1]");
        yield return Case("WorkloadFree(pattern zigzag)", s => s.WorkloadFree(0.5, "zigzag", 1), "pattern", "interleave, random");
        // With reclaim a populate may ask for up to the guest's managed memory: reclaim, swap and the OOM killer decide.
        yield return Case("WorkloadAnon(more than memory)", s => s.WorkloadAnon(65), "mib", "mib must be in [0, ");
        yield return Case("WorkloadFile(more than memory)", s => s.WorkloadFile(1000), "mib", "mib must be in [0, ");
        yield return Case("WorkloadSlab(more than memory)", s => s.WorkloadSlab(65), "mib", "mib must be in [0, ");
        yield return Case("WorkloadAnon(-1)", s => s.WorkloadAnon(-1), "mib", "mib must be in [0, ");
        yield return Case("WorkloadAnon(NaN)", s => s.WorkloadAnon(double.NaN), "mib", "mib must be in [0, ");
    }

    private sealed record Snapshot(byte[] PageMap, long[] Vmstat, string Buddyinfo, string Pagetypeinfo, double[] History, int Reports);

    private static Snapshot Take(Simulation s) =>
        new(s.PageMap(), s.VmstatValues(), s.Buddyinfo(), s.Pagetypeinfo(), s.HistoryValues(), s.Reports.Count);

    private static Simulation Populated()
    {
        var s = Simulation.Create(new SimulationOptions { MemoryMib = 64, Seed = 1 });
        s.WorkloadAnon(8);
        s.WorkloadSlab(1);
        s.WorkloadFree(0.3, "random", 2);
        return s;
    }

    private static void AssertSame(Snapshot after, Snapshot before)
    {
        Assert.That(after.PageMap, Is.EqualTo(before.PageMap));
        Assert.That(after.Vmstat, Is.EqualTo(before.Vmstat));
        Assert.That(after.Buddyinfo, Is.EqualTo(before.Buddyinfo));
        Assert.That(after.Pagetypeinfo, Is.EqualTo(before.Pagetypeinfo));
        Assert.That(after.History, Is.EqualTo(before.History));
        Assert.That(after.Reports, Is.EqualTo(before.Reports));
    }

    [TestCaseSource(nameof(BadCalls))]
    public void BadCall_IsRejectedAndLeavesTheSimulationUnchangedAndUsable(Action<Simulation> call, string argument, string range)
    {
        var sim = Populated();
        var before = Take(sim);

        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => call(sim)) as ArgumentException;

        Assert.That(e!.ParamName, Is.EqualTo(argument));
        Assert.That(e.Message, Does.Contain(argument).And.Contain(range));
        AssertSame(Take(sim), before);

        var twin = Populated();
        foreach (var s in new[] { sim, twin })
        {
            s.WorkloadFile(4);
            s.WorkloadFree(0.5, "interleave", 0);
        }
        AssertSame(Take(sim), Take(twin));
        Assert.That(sim.Reports, Is.Empty);
    }
}
