namespace BalloonScript.Engine.Designs;

/// <summary>
/// One row of the design table: which version of each kernel part a design is composed of. The balloon is
/// split into the independent choices the kernel versions made (how a balloon page is recognised, the migrate
/// scanner's isolation test, the dequeue walk, the balloon path through migration, and when the driver
/// releases deflated pages). docs/model.md prints the same table; a test keeps the two equal.
/// </summary>
public sealed record DesignParts(
    PartVersion PageAllocator,
    PartVersion Reclaim,
    PartVersion Compaction,
    PartVersion Migration,
    PartVersion BalloonIdentity,
    PartVersion ScannerIsolation,
    PartVersion DequeueWalk,
    PartVersion BalloonMigration,
    PartVersion DriverRelease)
{
    /// <summary>The part names, in table order (as <see cref="KernelPartAttribute.Part"/> spells them).</summary>
    public static readonly string[] Names =
    [
        "page allocator", "reclaim", "compaction", "migration", "balloon identity", "scanner isolation",
        "dequeue walk", "balloon migration", "driver release",
    ];

    /// <summary>The versions in <see cref="Names"/> order.</summary>
    public PartVersion[] Versions =>
        [PageAllocator, Reclaim, Compaction, Migration, BalloonIdentity, ScannerIsolation, DequeueWalk, BalloonMigration, DriverRelease];
}
