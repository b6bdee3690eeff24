namespace BalloonScript.Engine.Migrate;

/// <summary>Return codes of the migration paths (v3.16 include/linux/migrate.h and errno).</summary>
internal static class MigrateRc
{
    public const int Success = 0;
    /// <summary>MIGRATEPAGE_BALLOON_SUCCESS: pre-redesign only; removed by d6d86c0.</summary>
    public const int BalloonSuccess = 1;
    public const int EAgain = -11;
    public const int ENoMem = -12;
    public const int EBusy = -16;
}
