using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Mm.V4_8;

/// <summary>
/// The LRU lists of v4.8 as the <c>movable</c> design has them: <c>__lru_cache_add</c> adds the page to the lru_add_pvec
/// (PAGEVEC_SIZE 14) and drains it once that page filled it ("if (!pagevec_add(pvec, page) || PageCompound(page))
/// __pagevec_lru_add(pvec)", since 4.7's "mm/swap.c: flush lru pvecs on compound page arrival"); a new anonymous page
/// starts active (lru_cache_add_active_or_unevictable). The lists stay per zone, borrowed from v3.16 with the reclaim
/// that walks them: v4.8 moved them to the node ("mm, vmscan: move LRU lists to node"), which 6.1's design models.
/// </summary>
[KernelPart("LRU lists", PartVersion.V4_8)]
internal sealed class LruListsV4_8 : ILruLists
{
    public bool NodeLruvec => false;

    public bool RotateDeactivates => false;

    public bool NewAnonPageActive => true;

    public int LruAddBatchSize => 14;

    public bool DrainFullBatchAfterAdd => true;
}
