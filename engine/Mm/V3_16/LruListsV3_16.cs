using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Mm.V3_16;

/// <summary>
/// The LRU lists of v3.16: per zone (<c>zone-&gt;lruvec</c>, <c>zone-&gt;lru_lock</c>); a new anonymous page starts active
/// (do_anonymous_page → page_add_new_anon_rmap: SetPageActive, lru_cache_add; 3.17 moved it to
/// lru_cache_add_active_or_unevictable); <c>__lru_cache_add</c> drains a full lru_add_pvec of
/// PAGEVEC_SIZE 14 before it adds the page.
/// </summary>
[KernelPart("LRU lists", PartVersion.V3_16)]
internal sealed class LruListsV3_16 : ILruLists
{
    public bool NodeLruvec => false;

    public bool RotateDeactivates => false;

    public bool NewAnonPageActive => true;

    public int LruAddBatchSize => 14;

    public bool DrainFullBatchAfterAdd => false;
}
