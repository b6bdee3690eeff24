namespace BalloonScript.Engine.Mm;

/// <summary>Migrate types of v3.16 (mmzone.h) without CONFIG_CMA; ISOLATE exists with memory isolation.</summary>
internal static class MigrateType
{
    public const int Unmovable = 0;
    public const int Reclaimable = 1;
    public const int Movable = 2;
    public const int PcpTypes = 3;
    public const int Reserve = PcpTypes;
    public const int Isolate = 4;
    public const int Count = 5;

    /// <summary>Names as <c>show_migration_types</c> / pagetypeinfo print them.</summary>
    public static readonly string[] Names = ["Unmovable", "Reclaimable", "Movable", "Reserve", "Isolate"];

    /// <summary>fallbacks[] of v3.16 page_alloc.c (no CMA); RESERVE ends each row.</summary>
    public static readonly int[][] Fallbacks =
    [
        [Reclaimable, Movable, Reserve],
        [Unmovable, Movable, Reserve],
        [Reclaimable, Unmovable, Reserve],
        [Reserve],
        [Reserve],
    ];
}
