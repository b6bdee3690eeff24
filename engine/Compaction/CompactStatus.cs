namespace BalloonScript.Engine.Compaction;

/// <summary>Return values of compaction_suitable / compact_zone / try_to_compact_pages (v3.16 compaction.h).</summary>
internal enum CompactStatus
{
    /// <summary>COMPACT_SKIPPED: compaction did not run (not suitable, or not possible).</summary>
    Skipped = 0,
    /// <summary>COMPACT_CONTINUE: compaction should continue to another pageblock.</summary>
    Continue = 1,
    /// <summary>COMPACT_PARTIAL: stopped early: the allocation can succeed, or the run was aborted.</summary>
    Partial = 2,
    /// <summary>COMPACT_COMPLETE: the scanners met; the whole zone was compacted.</summary>
    Complete = 3,
}

internal static class CompactStatuses
{
    /// <summary>The kernel's macro names, as results report them.</summary>
    public static string Name(CompactStatus s) => s switch
    {
        CompactStatus.Skipped => "COMPACT_SKIPPED",
        CompactStatus.Continue => "COMPACT_CONTINUE",
        CompactStatus.Partial => "COMPACT_PARTIAL",
        _ => "COMPACT_COMPLETE",
    };
}
