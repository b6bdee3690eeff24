namespace BalloonScript.Engine.Mm;

/// <summary>
/// <c>enum zone_flags</c> bits reclaim and the OOM killer use (v3.16 include/linux/mmzone.h), and the two the 6.1 page
/// allocator reads (set only in designs with the 6.1 allocator).
/// </summary>
[Flags]
internal enum ZoneFlags
{
    None = 0,
    /// <summary>ZONE_OOM_LOCKED: an OOM kill for this zonelist is under way.</summary>
    OomLocked = 1 << 1,
    /// <summary>ZONE_CONGESTED: every dirty page of a reclaim batch was backed by a congested device.</summary>
    Congested = 1 << 2,
    /// <summary>ZONE_TAIL_LRU_DIRTY: a reclaim batch found only dirty pages not yet queued for I/O; kswapd may write them.</summary>
    TailLruDirty = 1 << 3,
    /// <summary>ZONE_WRITEBACK: a reclaim batch found only pages under writeback.</summary>
    Writeback = 1 << 4,
    /// <summary>ZONE_BOOSTED_WATERMARK (6.1): a fragmenting fallback boosted the watermark; rmqueue wakes kswapd.</summary>
    BoostedWatermark = 1 << 5,
    /// <summary>ZONE_RECLAIM_ACTIVE (6.1): kswapd or direct reclaim is working on the zone; pcp->high is capped.</summary>
    ReclaimActive = 1 << 6,
}
