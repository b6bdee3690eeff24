using BalloonScript.Engine.Designs;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The sysctls only some designs' kernels have (issue 12, "Bad input"): set on a design without them they are an
/// ArgumentException naming the option and the designs that have it; on v6.1 they are range-checked and used.
/// </summary>
public class OptionsV6_1Tests
{
    private static readonly string[] OlderDesigns = ["legacy", "redesign", "fixed"];

    public static IEnumerable<TestCaseData> OnADesignWithout()
    {
        foreach (var design in OlderDesigns)
        {
            var d = KernelDesign.Parse(design);
            yield return new TestCaseData(new SimulationOptions { Design = d, CompactionProactiveness = 20 }, "compaction_proactiveness").SetName($"{design}_CompactionProactiveness");
            yield return new TestCaseData(new SimulationOptions { Design = d, WatermarkBoostFactor = 0 }, "watermark_boost_factor").SetName($"{design}_WatermarkBoostFactor");
            yield return new TestCaseData(new SimulationOptions { Design = d, WatermarkScaleFactor = 10 }, "watermark_scale_factor").SetName($"{design}_WatermarkScaleFactor");
        }
        // page_reporting (5.7): the v4.8 design (v3.16 allocator) has none either.
        foreach (var design in OlderDesigns.Append("movable"))
            yield return new TestCaseData(new SimulationOptions { Design = KernelDesign.Parse(design), FreePageReporting = true }, "free_page_reporting")
                .SetName($"{design}_FreePageReporting");
    }

    [TestCaseSource(nameof(OnADesignWithout))]
    public void Create_V6_1Sysctl_OnADesignWithoutIt_NamesTheOptionAndTheDesignsThatHaveIt(SimulationOptions options, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => Simulation.Create(options))!;
        Assert.That(e.ParamName, Is.EqualTo(option));
        Assert.That(e.Message, Does.Contain(option).And.Contain(options.Design.Name).And.Contain("the designs that have it: v6.1"));
    }

    [TestCase(false, 9, "set free_page_reporting=True too")]
    [TestCase(true, -1, "[0, 10]")]
    [TestCase(true, 11, "[0, 10]")]
    public void Create_PageReportingOrder_WithoutReportingOrOutOfRange_NamesTheOptionAndWhatItNeeds(bool reporting, int order, string text)
    {
        var options = new SimulationOptions { Design = KernelDesign.V6_1, MemoryMib = 16, FreePageReporting = reporting, PageReportingOrder = order };
        var e = Assert.Catch<ArgumentException>(() => Simulation.Create(options))!;
        Assert.That(e.ParamName, Is.EqualTo("page_reporting_order"));
        Assert.That(e.Message, Does.Contain(text));
    }

    [TestCase(nameof(SimulationOptions.CompactionProactiveness), -1, "[0, 100]")]
    [TestCase(nameof(SimulationOptions.CompactionProactiveness), 101, "[0, 100]")]
    [TestCase(nameof(SimulationOptions.WatermarkBoostFactor), -1, "[0, 2147483647]")]
    [TestCase(nameof(SimulationOptions.WatermarkScaleFactor), 0, "[1, 3000]")]
    [TestCase(nameof(SimulationOptions.WatermarkScaleFactor), 3001, "[1, 3000]")]
    public void Create_V6_1Sysctl_OutOfRange_NamesTheRange(string property, int value, string range)
    {
        var options = new SimulationOptions { Design = KernelDesign.V6_1, MemoryMib = 16 };
        typeof(SimulationOptions).GetProperty(property)!.SetValue(options, value);
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => Simulation.Create(options)) as ArgumentException;
        Assert.That(e!.Message, Does.Contain(range));
    }

    [Test]
    public void Create_V6_1Sysctls_AreUsedByTheParts()
    {
        var rig = new RigV6_1(TestOptions.Classic(64, 1, 1, "v6.1") with
        {
            CompactionProactiveness = 35, WatermarkBoostFactor = 0, WatermarkScaleFactor = 200,
        });
        Assert.That(rig.Get<Engine.Compaction.V6_1.Kcompactd>().Proactiveness, Is.EqualTo(35));
        Assert.That(rig.Get<Engine.PageAlloc.V6_1.WatermarkBoost>().Factor, Is.Zero);
        Assert.That(rig.Zone("DMA32").Watermark[Engine.Mm.Zone.WmarkLow] - rig.Zone("DMA32").Watermark[Engine.Mm.Zone.WmarkMin], Is.EqualTo(12288 * 200 / 10000));
    }
}
