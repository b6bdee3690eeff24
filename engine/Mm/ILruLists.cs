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

    /// <summary>PAGEVEC_SIZE, the pages a CPU's LRU-add batch holds: 14 in v3.16, 15 in 6.1 (a one-byte count).</summary>
    int LruAddBatchSize { get; }

    /// <summary>
    /// <c>lru_cache_add</c> drains the batch once the page it adds fills it (4.7's __lru_cache_add, 6.1's folio_add_lru:
    /// "if (!folio_batch_add(...)) folio_batch_move_lru"), rather than before adding to a full one (v3.16 __lru_cache_add:
    /// "if (!pagevec_space(pvec)) __pagevec_lru_add(pvec)"): a full batch never waits for the next page.
    /// </summary>
    bool DrainFullBatchAfterAdd { get; }
}
