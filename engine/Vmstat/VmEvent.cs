namespace BalloonScript.Engine.Vmstat;

/// <summary>The modelled subset of <c>enum vm_event_item</c> (v3.18 vm_event_item.h), in kernel order.</summary>
internal enum VmEvent
{
    PgmigrateSuccess,
    PgmigrateFail,
    CompactMigrateScanned,
    CompactFreeScanned,
    CompactIsolated,
    CompactStall,
    CompactFail,
    CompactSuccess,
    ThpFaultAlloc,
    ThpFaultFallback,
    BalloonInflate,
    BalloonDeflate,
    BalloonMigrate,
    Count,
}

internal static class VmEvents
{
    /// <summary>/proc/vmstat names (vmstat_text, v3.18).</summary>
    public static readonly string[] Names =
    [
        "pgmigrate_success", "pgmigrate_fail", "compact_migrate_scanned", "compact_free_scanned",
        "compact_isolated", "compact_stall", "compact_fail", "compact_success", "thp_fault_alloc",
        "thp_fault_fallback", "balloon_inflate", "balloon_deflate", "balloon_migrate",
    ];
}
