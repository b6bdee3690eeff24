using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>MappingTable: what reads through a <c>page-&gt;mapping</c> handle give, including handles no object ever had.</summary>
public class MappingTableTests
{
    /// <summary>
    /// A corrupted <c>page-&gt;mapping</c> can hold a handle beyond the table (a wild pointer): it reads as no live object,
    /// a field read through it is a kasan report with an arbitrary value, and nothing throws.
    /// </summary>
    [TestCase(-4)]
    [TestCase(-2)]
    [TestCase(1 << 20)]
    public void WildHandle_ReadsAsNoLiveObject_WithoutException(int handle)
    {
        var rig = new SimRig(new SimulationOptions { MemoryMib = 16, Seed = 1 });
        var mappings = rig.Get<MappingTable>();
        Assert.That(mappings.KindOf(handle), Is.EqualTo(MappingObject.Freed));
        Assert.That(mappings.MovableOps(handle), Is.Null);
        Assert.That(mappings.MigratePage(handle), Is.EqualTo(MigratePageOp.None));
        Assert.That(mappings.PrivateData(handle), Is.Zero);
        Assert.That(mappings.CallDriverMigratePage(handle, 1, 2, default), Is.EqualTo(Engine.Migrate.MigrateRc.EAgain));
        mappings.ReadFlags(handle, 7);
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.Kasan, 7L) }));
    }
}
