using System.Reflection;
using System.Text.RegularExpressions;
using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Balloon.V4_8;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V4_8;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Virtio;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Designs;

/// <summary>
/// Each design is one row of the design table: its container resolves every part (ValidateOnBuild), the class
/// it resolves for each part is the version the row names, and docs/model.md prints the same table.
/// </summary>
public class DesignCompositionTests
{
    /// <summary>
    /// The services through which the rest of the simulation reaches each part of <see cref="DesignParts.Names"/>. A
    /// design registers those its kernel has (at least one per part, none for a part its kernel lacks): v3.x reaches the balloon through compaction's and
    /// migration's balloon hooks, v4.8 through the generic isolate_movable_page and the balloon's a_ops.
    /// </summary>
    private static readonly Dictionary<string, Type[]> PartServices = new()
    {
        ["page allocator"] = [typeof(IBuddyAllocator), typeof(IPageAllocator)],
        ["LRU lists"] = [typeof(Engine.Mm.ILruLists)],
        ["reclaim"] = [typeof(IReclaim)],
        ["background compaction"] = [typeof(IBackgroundCompaction)],
        ["compaction"] = [typeof(ICompaction)],
        ["migrate scanner"] = [typeof(IMigrateScanner)],
        ["migration"] = [typeof(IMigration)],
        ["balloon identity"] = [typeof(IBalloonPageIdentity)],
        ["scanner isolation"] = [typeof(IScannerIsolation), typeof(MovablePageIsolation)],
        ["dequeue walk"] = [typeof(IDequeueWalk)],
        ["balloon migration"] = [typeof(IBalloonMigrationPath), typeof(BalloonAops)],
        ["driver fill/leak"] = [typeof(IDriverFillLeak)],
        ["driver release"] = [typeof(IDriverRelease)],
        ["OOM notifier"] = [typeof(IBalloonOomNotifier)],
        ["balloon stats"] = [typeof(IBalloonStats)],
    };

    public static IEnumerable<KernelDesign> All => KernelDesign.All;

    [TestCaseSource(nameof(All))]
    public void EveryRegistration_Resolves_ValidateOnBuild(KernelDesign design)
    {
        foreach (bool pcp in new[] { false, true })
            Assert.DoesNotThrow(() => ServiceCollectionExtensions.BuildSimulationProvider(new SimulationOptions { MemoryMib = 16, Design = design, PerCpuLists = pcp }).Dispose());
    }

    [TestCaseSource(nameof(All))]
    public void EachPart_IsTheVersionTheDesignTableNames(KernelDesign design)
    {
        using var provider = ServiceCollectionExtensions.BuildSimulationProvider(new SimulationOptions { MemoryMib = 16, Design = design, Reclaim = true });
        Assert.That(PartServices.Keys, Is.EquivalentTo(DesignParts.Names), "every part of the table is checked");
        var versions = design.Parts.Versions;
        for (int i = 0; i < DesignParts.Names.Length; i++)
        {
            string part = DesignParts.Names[i];
            var registered = PartServices[part].Where(s => provider.GetService(s) is not null).ToArray();
            if (versions[i] == PartVersion.None)
            {
                Assert.That(registered, Is.Empty, $"{design}: its kernel has no {part}");
                continue;
            }
            Assert.That(registered, Is.Not.Empty, $"{design}: some service reaches the {part}");
            foreach (var service in registered)
            {
                var implementation = provider.GetRequiredService(service).GetType();
                var tag = implementation.GetCustomAttribute<KernelPartAttribute>();
                Assert.That(tag, Is.Not.Null, $"{implementation.Name} names the kernel part it implements");
                Assert.That((tag!.Part, tag.Version), Is.EqualTo((part, versions[i])), $"{design}: {service.Name} resolves to {implementation.Name}");
            }
        }
    }

    [Test]
    public void DocsModelMd_PrintsTheSameDesignTable()
    {
        string doc = File.ReadAllText(Path.Combine(RepoDocs.Root(), "docs", "model.md"));
        var header = "| design | kernel | " + string.Join(" | ", DesignParts.Names) + " |";
        Assert.That(doc, Does.Contain(header), "docs/model.md has the design table with these columns");
        foreach (var design in KernelDesign.All)
        {
            string row = $"| `{design.Name}` | {design.Kernel} | " + string.Join(" | ", design.Parts.Versions.Select(v => v.Display())) + " |";
            Assert.That(doc, Does.Contain(row), $"docs/model.md row of {design}");
        }
        int rows = Regex.Matches(doc[doc.IndexOf(header, StringComparison.Ordinal)..], @"^\| `", RegexOptions.Multiline).Count;
        Assert.That(rows, Is.GreaterThanOrEqualTo(KernelDesign.All.Count));
    }

    [Test]
    public void Parse_FindsEveryDesignByItsName_AndNamesAreUnique()
    {
        Assert.That(KernelDesign.Names, Is.Unique);
        foreach (var design in KernelDesign.All) Assert.That(KernelDesign.Parse(design.Name), Is.SameAs(design));
    }
}
