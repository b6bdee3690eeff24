using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate.V4_8;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Balloon.V4_8;

/// <summary>
/// Balloon pages as generic non-LRU movable pages (v4.8 include/linux/balloon_compaction.h after b1123ea6d3b3; the
/// insert/delete bodies read in a ~4.19 copy, index id 8196952810): PageBalloon (<c>_mapcount == -256</c>), a
/// <c>page-&gt;mapping</c> of the balloon inode's mapping tagged PAGE_MAPPING_MOVABLE, <c>page-&gt;private</c> = the
/// device; PG_isolated (the migration core's) says "off the list". The inode is made when the driver probes
/// (<c>alloc_anon_inode</c> on the "balloon-kvm" pseudo filesystem) and its mapping gets balloon_aops
/// (<see cref="BalloonAops"/>). PG_private is no longer used.
/// </summary>
[KernelPart("balloon identity", PartVersion.V4_8)]
internal sealed class MovableBalloonIdentity : IBalloonPageIdentity
{
    private readonly BalloonDevInfo _dev;
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly MovablePage _movable;
    private readonly PageBalloonType _pageBalloon;

    public MovableBalloonIdentity(BalloonDevInfo dev, PageTable pages, PageLists lists, MappingTable mappings, MovablePage movable,
        PageBalloonType pageBalloon, BalloonAops aops)
    {
        _dev = dev;
        _pages = pages;
        _lists = lists;
        _movable = movable;
        _pageBalloon = pageBalloon;
        dev.Mapping = mappings.NewMovableAddressSpace(aops);
    }

    /// <summary>balloon_page_insert (v4.8): __SetPageBalloon, <c>__SetPageMovable(page, b-&gt;inode-&gt;i_mapping)</c>, private = the device.</summary>
    public void Mark(int page)
    {
        _pageBalloon.Set(page);
        _movable.SetPageMovable(page, _dev.Mapping);
        _pages.Private[page] = BalloonDevInfo.Id;
    }

    /// <summary>
    /// balloon_page_delete (v4.8): __ClearPageBalloon, <c>__ClearPageMovable</c> (the PAGE_MAPPING_MOVABLE tag stays
    /// until the page is freed), private = 0, and off the list unless isolated (an isolated page's <c>lru</c> is on a
    /// migration list).
    /// </summary>
    public void Delete(int page)
    {
        _pageBalloon.Clear(page);
        _movable.ClearPageMovable(page);
        _pages.Private[page] = 0;
        if (!_pages.PageIsolated(page)) _lists.Del(page);
    }

    public bool HasBalloonIdentity(int page) => _pages.PageBalloon(page);

    /// <summary>A listed v4.8 balloon page is isolatable when isolate_movable_page would take it: PageMovable and not PG_isolated.</summary>
    public bool ListedPageMovable(int page) =>
        _pages.PageBalloon(page) && _pages.PageMovableUnlocked(page) && _movable.Ops(page) is not null && !_pages.PageIsolated(page);
}
