namespace BalloonScript.Engine.Designs;

/// <summary>
/// One row of the design table: which version of each kernel part a design is composed of. The LRU lists are where the
/// lists live and where a new anonymous page starts (<see cref="Mm.ILruLists"/>). Compaction is split into
/// compact_zone with its free scanner and rules, the migrate scanner, and the background compaction kswapd asks for;
/// the balloon into the independent choices the kernel versions made (how a balloon page is recognised, the migrate
/// scanner's isolation of it, the dequeue walk, the balloon's way through migration, the driver's fill and leak (allocation and the
/// "Out of puff!" sleep under balloon_lock or before it), and how the driver lets go of pages); last the driver's OOM notifier (VIRTIO_BALLOON_F_DEFLATE_ON_OOM, v3.19+) and the tags its stats virtqueue
/// sends. docs/model.md prints the same table; a test keeps the two equal.
/// </summary>
public sealed record DesignParts(
    PartVersion PageAllocator,
    PartVersion LruLists,
    PartVersion Reclaim,
    PartVersion BackgroundCompaction,
    PartVersion Compaction,
    PartVersion MigrateScanner,
    PartVersion Migration,
    PartVersion BalloonIdentity,
    PartVersion ScannerIsolation,
    PartVersion DequeueWalk,
    PartVersion BalloonMigration,
    PartVersion DriverFillLeak,
    PartVersion DriverRelease,
    PartVersion OomNotifier,
    PartVersion BalloonStats)
{
    /// <summary>The part names, in table order (as <see cref="KernelPartAttribute.Part"/> spells them).</summary>
    public static readonly string[] Names =
    [
        "page allocator", "LRU lists", "reclaim", "background compaction", "compaction", "migrate scanner", "migration",
        "balloon identity", "scanner isolation", "dequeue walk", "balloon migration", "driver fill/leak", "driver release", "OOM notifier",
        "balloon stats",
    ];

    /// <summary>The versions in <see cref="Names"/> order.</summary>
    public PartVersion[] Versions =>
    [
        PageAllocator, LruLists, Reclaim, BackgroundCompaction, Compaction, MigrateScanner, Migration, BalloonIdentity, ScannerIsolation,
        DequeueWalk, BalloonMigration, DriverFillLeak, DriverRelease, OomNotifier, BalloonStats,
    ];
}
