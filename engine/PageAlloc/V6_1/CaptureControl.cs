using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// <c>struct capture_control</c> (6.1 mm/internal.h): what a direct compactor is compacting (its compact_control's zone
/// and order) and the block __free_one_page handed it instead of the free lists (compaction_capture), or -1.
/// </summary>
internal sealed class CaptureControl(Zone zone, int order)
{
    public Zone Zone { get; } = zone;
    public int Order { get; } = order;
    /// <summary><c>capc-&gt;page</c>: the captured block's first PFN, or -1.</summary>
    public int Page { get; set; } = -1;
}
