namespace BalloonScript.Engine.Compaction;

/// <summary>
/// What one <c>compact_memory</c> write did: the change in the vmstat counters (pgmigrate_success,
/// pgmigrate_fail, compact_isolated, compact_migrate_scanned, compact_free_scanned) and each zone's
/// compact_zone result (COMPACT_SKIPPED / CONTINUE / PARTIAL / COMPLETE).
/// </summary>
public sealed record CompactResult(long Migrated, long Failed, long Isolated, long MigrateScanned, long FreeScanned,
    string[] ZoneNames, string[] ZoneOutcomes);
