namespace BalloonScript.Engine.Balloon;

/// <summary>
/// How a kernel version marks a balloon page: the marking half of <c>balloon_page_insert</c> /
/// <c>balloon_page_delete</c> (include/linux/balloon_compaction.h), and what the sanitizers read of it. v3.8–v3.17:
/// a fake address_space with AS_BALLOON_MAP (<see cref="V3_16.FakeMappingIdentity"/>); v3.18: PageBalloon and
/// PG_private (<see cref="V3_18.PageBalloonIdentity"/>); v4.8: PageBalloon and a PAGE_MAPPING_MOVABLE mapping
/// (<see cref="V4_8.MovableBalloonIdentity"/>). How compaction recognises the page is the version's own business:
/// the balloon branches of v3.x (<see cref="IBalloonMovability"/>), the generic non-LRU movable page test of v4.8.
/// </summary>
internal interface IBalloonPageIdentity
{
    /// <summary>balloon_page_insert's marking of the page (the list add is common); page lock and pages_lock held.</summary>
    void Mark(int page);

    /// <summary><c>balloon_page_delete(page)</c>: the page stops being a balloon page (and leaves the list where the version says so).</summary>
    void Delete(int page);

    /// <summary>The page carries this version's balloon mark (the sanitizer's omniscient view, not kernel code).</summary>
    bool HasBalloonIdentity(int page);

    /// <summary>A page on the balloon list that compaction could isolate (the sanitizer's view).</summary>
    bool ListedPageMovable(int page);

    /// <summary>
    /// The first page of [<paramref name="from"/>, <paramref name="to"/>), all on the balloon list, that is not
    /// <see cref="ListedPageMovable"/>; <paramref name="to"/> if none (the sanitizer's view of a run of listed pages at once).
    /// Page by page unless the version has a vector search for it (v3.16, v3.18).
    /// </summary>
    int FirstUnmovableListed(int from, int to)
    {
        for (int page = from; page < to; page++)
            if (!ListedPageMovable(page)) return page;
        return to;
    }
}
