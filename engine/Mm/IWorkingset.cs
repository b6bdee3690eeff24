using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Workingset refault detection (mm/workingset.c, 3.15 on): reclaim leaves a shadow entry where it evicts a page from the
/// page cache or (5.9 on) the swap cache, and a page read back in its place is activated if it was evicted recently
/// enough to have stayed resident with a larger active list. The versions differ in what they age, what they keep a
/// shadow for and what they measure a refault against (<see cref="Reclaim.V3_16.Workingset"/>,
/// <see cref="Reclaim.V6_1.Workingset"/>). Registered with reclaim: without it nothing is evicted.
/// </summary>
internal partial interface IWorkingset
{
    /// <summary>workingset_eviction of a page <c>__remove_mapping</c> is taking out of its cache: the shadow entry to leave in its place (0: none).</summary>
    long Eviction(int page);

    /// <summary>
    /// workingset_refault of <paramref name="page"/>, new in the cache in place of <paramref name="shadow"/> and not yet on
    /// the LRU: counts the refault and sets PG_active if the refault distance says the page belongs to the workingset.
    /// </summary>
    [Preemptible]
    void Refault(int page, long shadow);

    /// <summary>workingset_activation: <c>mark_page_accessed</c> activated <paramref name="page"/>.</summary>
    void Activation(int page);
}
