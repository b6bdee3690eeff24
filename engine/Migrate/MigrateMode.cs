namespace BalloonScript.Engine.Migrate;

/// <summary>enum migrate_mode (v3.16 include/linux/migrate_mode.h).</summary>
internal enum MigrateMode
{
    Async,
    SyncLight,
    Sync,
}
