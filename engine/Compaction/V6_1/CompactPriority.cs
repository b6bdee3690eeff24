namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// <c>enum compact_priority</c> (6.1 include/linux/compaction.h): how hard direct compaction tries. Lower is harder; the
/// slow path starts at ASYNC or SYNC_LIGHT and lowers it.
/// </summary>
internal enum CompactPriority
{
    /// <summary>COMPACT_PRIO_SYNC_FULL = MIN_COMPACT_PRIORITY: the whole zone, skip hints and block suitability ignored, no deferral.</summary>
    SyncFull,
    /// <summary>COMPACT_PRIO_SYNC_LIGHT = MIN_COMPACT_COSTLY_PRIORITY = DEF_COMPACT_PRIORITY.</summary>
    SyncLight,
    /// <summary>COMPACT_PRIO_ASYNC = INIT_COMPACT_PRIORITY.</summary>
    Async,

    MinCompactPriority = SyncFull,
    MinCompactCostlyPriority = SyncLight,
    DefCompactPriority = SyncLight,
}
