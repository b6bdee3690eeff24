using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// <c>enum migratetype</c> of 6.1 (include/linux/mmzone.h) as Debian's amd64 kernel builds it (CONFIG_CMA and
/// CONFIG_MEMORY_ISOLATION on): UNMOVABLE, MOVABLE, RECLAIMABLE, then HIGHATOMIC at MIGRATE_PCPTYPES, CMA, ISOLATE.
/// MIGRATE_RESERVE is gone (removed in 4.4, "mm, page_alloc: remove MIGRATE_RESERVE"); no CMA area is ever declared
/// here, so the CMA lists stay empty. docs/kernel/v6.1.md §2.1.
/// </summary>
internal static class MigrateType
{
    public const int Unmovable = 0;
    public const int Movable = 1;
    public const int Reclaimable = 2;
    /// <summary>MIGRATE_PCPTYPES: the number of types on the per-cpu lists.</summary>
    public const int PcpTypes = 3;
    public const int HighAtomic = PcpTypes;
    public const int Cma = 4;
    public const int Isolate = 5;
    public const int Count = 6;

    /// <summary><c>migratetype_names[]</c>.</summary>
    public static readonly string[] Names = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"];

    /// <summary>The numbering, for the zone and the code outside the allocator.</summary>
    public static MigrateTypes Set { get; } = new("v6.1", Names, Unmovable, Movable, Reclaimable, Isolate, PcpTypes);

    /// <summary>
    /// <c>fallbacks[MIGRATE_TYPES][3]</c> (6.1 page_alloc.c): the types a request of each PCPTYPE falls back to, in
    /// order; the other types have none (MIGRATE_TYPES ends each row).
    /// </summary>
    public static readonly int[][] Fallbacks =
    [
        [Reclaimable, Movable],
        [Reclaimable, Unmovable],
        [Unmovable, Movable],
    ];

    /// <summary><c>gfp_migratetype</c> (6.1): __GFP_MOVABLE → MOVABLE (1), __GFP_RECLAIMABLE → RECLAIMABLE (2), else UNMOVABLE.</summary>
    public static int FromGfp(Gfp gfp) =>
        ((gfp & Gfp.Movable) != 0 ? Movable : 0) | ((gfp & Gfp.Reclaimable) != 0 ? Reclaimable : 0);

    /// <summary><c>migratetype_is_mergeable</c>: a type whose blocks merge with others' above pageblock_order (UNMOVABLE, MOVABLE, RECLAIMABLE).</summary>
    public static bool IsMergeable(int mt) => mt < PcpTypes;

    /// <summary><c>is_migrate_movable</c>: MOVABLE or CMA.</summary>
    public static bool IsMovable(int mt) => mt is Movable or Cma;
}
