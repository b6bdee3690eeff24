namespace BalloonScript.Engine.Mm;

/// <summary>isolate_mode_t bits that <c>__isolate_lru_page</c> acts on (v3.16 include/linux/mmzone.h).</summary>
[Flags]
internal enum IsolateMode
{
    None = 0,
    /// <summary>ISOLATE_CLEAN: reclaim that may not write: no dirty and no writeback pages.</summary>
    Clean = 0x1,
    /// <summary>ISOLATE_UNMAPPED: reclaim that may not unmap: no mapped pages.</summary>
    Unmapped = 0x2,
    /// <summary>ISOLATE_ASYNC_MIGRATE: only pages migratable without blocking (no writeback, no dirty page without migratepage).</summary>
    AsyncMigrate = 0x8,
    /// <summary>ISOLATE_UNEVICTABLE: unevictable pages may be isolated too.</summary>
    Unevictable = 0x10,
}
