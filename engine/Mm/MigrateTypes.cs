namespace BalloonScript.Engine.Mm;

/// <summary>
/// One kernel version's <c>enum migratetype</c> (mmzone.h): how many free lists each order has, what they are called
/// (<c>migratetype_names</c>, the /proc/pagetypeinfo columns) and where the types every version has sit in the
/// numbering. The numbering is a property of the page allocator's version (v3.16: <see cref="MigrateType"/>; v6.1:
/// <see cref="PageAlloc.V6_1.MigrateType"/>); the zone sizes its free lists and labels its pageblocks by it, so code
/// outside the allocator asks this object instead of assuming a numbering.
/// </summary>
internal sealed class MigrateTypes(string version, string[] names, int unmovable, int movable, int reclaimable, int isolate, int pcpTypes)
{
    /// <summary>v3.16 without CONFIG_CMA: Unmovable, Reclaimable, Movable, Reserve, Isolate.</summary>
    public static MigrateTypes V3_16 { get; } = new("v3.16", MigrateType.Names, MigrateType.Unmovable, MigrateType.Movable,
        MigrateType.Reclaimable, MigrateType.Isolate, MigrateType.PcpTypes);

    /// <summary>The kernel version whose numbering this is.</summary>
    public string Version { get; } = version;
    /// <summary>MIGRATE_TYPES.</summary>
    public int Count => Names.Length;
    /// <summary><c>migratetype_names[]</c>, in number order.</summary>
    [Snapshots.NotState("the kernel's names, fixed")]
    public string[] Names { get; } = names;
    public int Unmovable { get; } = unmovable;
    public int Movable { get; } = movable;
    public int Reclaimable { get; } = reclaimable;
    public int Isolate { get; } = isolate;
    /// <summary>MIGRATE_PCPTYPES: the types below it have per-cpu lists.</summary>
    public int PcpTypes { get; } = pcpTypes;

    public override string ToString() => $"migratetypes of {Version}";
}
