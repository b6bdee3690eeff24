namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// <c>enum compact_result</c> of 6.1 (include/linux/compaction.h), in its order: try_to_compact_pages keeps the
/// highest of the zones' results. (v3.16's four values are <see cref="CompactStatus"/>.)
/// </summary>
internal enum CompactResultCode
{
    /// <summary>COMPACT_NOT_SUITABLE_ZONE: the fragmentation index says reclaim, not compaction (reported as SKIPPED).</summary>
    NotSuitableZone,
    /// <summary>COMPACT_SKIPPED: too few free pages for compaction to work with.</summary>
    Skipped,
    /// <summary>COMPACT_DEFERRED: compaction at this order failed recently.</summary>
    Deferred,
    /// <summary>COMPACT_NO_SUITABLE_PAGE: no suitable free page yet (internal to compact_finished).</summary>
    NoSuitablePage,
    /// <summary>COMPACT_CONTINUE: compaction should go on.</summary>
    Continue,
    /// <summary>COMPACT_COMPLETE: the scanners met over the whole zone; nothing suitable was made.</summary>
    Complete,
    /// <summary>COMPACT_PARTIAL_SKIPPED: the scanners met, but part of the zone was skipped.</summary>
    PartialSkipped,
    /// <summary>COMPACT_CONTENDED: lock contention or a fatal signal ended it.</summary>
    Contended,
    /// <summary>COMPACT_SUCCESS: a suitable free page exists (or was captured).</summary>
    Success,
}

internal static class CompactResultCodes
{
    /// <summary>The kernel's names (COMPACT_*), as trace points and results print them.</summary>
    public static string Name(this CompactResultCode r) => r switch
    {
        CompactResultCode.NotSuitableZone => "COMPACT_NOT_SUITABLE_ZONE",
        CompactResultCode.Skipped => "COMPACT_SKIPPED",
        CompactResultCode.Deferred => "COMPACT_DEFERRED",
        CompactResultCode.NoSuitablePage => "COMPACT_NO_SUITABLE_PAGE",
        CompactResultCode.Continue => "COMPACT_CONTINUE",
        CompactResultCode.Complete => "COMPACT_COMPLETE",
        CompactResultCode.PartialSkipped => "COMPACT_PARTIAL_SKIPPED",
        CompactResultCode.Contended => "COMPACT_CONTENDED",
        _ => "COMPACT_SUCCESS",
    };

    /// <summary>
    /// The v3.16 value the callers of <see cref="ICompaction"/> (sim.compact(), the shared experiment code) understand:
    /// SUCCESS, PARTIAL_SKIPPED and CONTENDED were all COMPACT_PARTIAL then; DEFERRED and NOT_SUITABLE_ZONE were SKIPPED.
    /// </summary>
    public static CompactStatus ToV3_16(this CompactResultCode r) => r switch
    {
        CompactResultCode.NotSuitableZone or CompactResultCode.Skipped or CompactResultCode.Deferred => CompactStatus.Skipped,
        CompactResultCode.NoSuitablePage or CompactResultCode.Continue => CompactStatus.Continue,
        CompactResultCode.Complete => CompactStatus.Complete,
        _ => CompactStatus.Partial,
    };
}
