using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Mm.V6_1;

/// <summary>
/// The LRU lists of 6.1 (classic LRU, MGLRU off): one lruvec per node (<c>pgdat-&gt;__lruvec</c>, v4.8), its lists and
/// <c>lru_lock</c> shared by the node's zones; a new anonymous page starts inactive (5.9: do_anonymous_page →
/// lru_cache_add_inactive_or_unevictable → folio_add_lru_vma → folio_add_lru, which sets PG_active only for MGLRU faults;
/// read in a 6.x mm/swap.c and the 6.2 caller list of folio_add_lru_vma); a page rotated at the end of its writeback
/// leaves the active list for the inactive tail (folio_rotate_reclaimable → lru_move_tail_fn, 6.1.78 mm/swap.c);
/// folio_add_lru parks a page in <c>cpu_fbatches.lru_add</c>, a folio_batch of PAGEVEC_SIZE 15 (6.x pagevec.h), and moves
/// the batch to the LRU once that page fills it (6.1.78 mm/swap.c folio_batch_add_and_move; a large folio or
/// lru_cache_disable() drains at once too, neither of which a page added here is or sets).
/// </summary>
[KernelPart("LRU lists", PartVersion.V6_1)]
internal sealed class LruListsV6_1 : ILruLists
{
    public bool NodeLruvec => true;

    public bool RotateDeactivates => true;

    public bool NewAnonPageActive => false;

    public int LruAddBatchSize => 15;

    public bool DrainFullBatchAfterAdd => true;
}
