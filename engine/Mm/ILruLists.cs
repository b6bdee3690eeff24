namespace BalloonScript.Engine.Mm;

/// <summary>
/// The shape of the LRU lists, which changed between versions while the list code did not (<see cref="Lru"/>): where
/// the lists live — each zone's (v3.16) or the node's lruvec, shared by its zones (v4.8, "mm, vmscan: move LRU lists to
/// node") — and which list a new anonymous page starts on — the active one (v3.16 <c>lru_cache_add_active_or_unevictable</c>)
/// or the inactive one (5.9, "mm/vmscan: protect the workingset on anonymous LRU": <c>lru_cache_add_inactive_or_unevictable</c>).
/// </summary>
internal interface ILruLists
{
    /// <summary>One lruvec per node (its zones share the lists and the lru_lock) rather than one per zone.</summary>
    bool NodeLruvec { get; }

    /// <summary>A newly faulted anonymous page goes on the active anon list (else the inactive one).</summary>
    bool NewAnonPageActive { get; }

    /// <summary>
    /// The end of writeback of a PG_reclaim page rotates an active page too: it loses PG_active and goes to the inactive
    /// tail (4.11, "mm: vmscan: move dirty pages out of the way until they're flushed", which also had reclaim activate the
    /// pages it leaves for I/O; 6.1's lru_move_tail_fn). v3.16's rotate_reclaimable_page leaves an active page alone.
    /// </summary>
    bool RotateDeactivates { get; }
}
