using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// Deferred compaction (v3.16 include/linux/compaction.h): after a failure at some order, the next
/// 2^compact_defer_shift attempts at that order or above are skipped; the shift grows with each failure up
/// to COMPACT_MAX_DEFER_SHIFT.
/// </summary>
internal sealed class Deferral
{
    public const int CompactMaxDeferShift = 6;

    /// <summary>defer_compaction: restart the count, double the window (capped), remember the lowest failed order.</summary>
    public void DeferCompaction(Zone zone, int order)
    {
        zone.CompactConsidered = 0;
        zone.CompactDeferShift++;
        if (order < zone.CompactOrderFailed) zone.CompactOrderFailed = order;
        if (zone.CompactDeferShift > CompactMaxDeferShift) zone.CompactDeferShift = CompactMaxDeferShift;
    }

    /// <summary>compaction_deferred: true if this attempt should be skipped; counts the attempt.</summary>
    public bool CompactionDeferred(Zone zone, int order)
    {
        int deferLimit = 1 << zone.CompactDeferShift;
        if (order < zone.CompactOrderFailed) return false;
        if (++zone.CompactConsidered > deferLimit) zone.CompactConsidered = deferLimit;
        return zone.CompactConsidered < deferLimit;
    }

    /// <summary>compaction_defer_reset: after an allocation of this order succeeded (or is expected to).</summary>
    public void CompactionDeferReset(Zone zone, int order, bool allocSuccess)
    {
        if (allocSuccess)
        {
            zone.CompactConsidered = 0;
            zone.CompactDeferShift = 0;
        }
        if (order >= zone.CompactOrderFailed) zone.CompactOrderFailed = order + 1;
    }

    /// <summary>compaction_restarting: the deferral window is at its maximum and has run out.</summary>
    public bool CompactionRestarting(Zone zone, int order) =>
        order >= zone.CompactOrderFailed && zone.CompactDeferShift == CompactMaxDeferShift
        && zone.CompactConsidered >= 1 << zone.CompactDeferShift;
}
