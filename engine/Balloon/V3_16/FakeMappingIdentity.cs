using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_16;

/// <summary>
/// Balloon pages as merged for v3.8 and kept until v3.17 (TROVON v3.16 balloon_compaction.c; iamroot11c
/// include/linux/balloon_compaction.h): an ordinary page whose <c>mapping</c> points at a fake address_space with
/// AS_BALLOON_MAP, recognised by "no flag set, not mapped, one reference, mapping has AS_BALLOON_MAP", tested
/// without any lock. The mapping is made when the driver probes (balloon_mapping_alloc): its
/// <c>a_ops-&gt;migratepage</c> is the driver's, its <c>private_data</c> the device.
/// </summary>
[KernelPart("balloon identity", PartVersion.V3_16)]
internal sealed partial class FakeMappingIdentity : IBalloonPageIdentity, IBalloonMovability, IDriverMigratePage
{
    private const ulong AsBalloonMapBit = 1UL << MappingTable.AsBalloonMap;
    private readonly BalloonDevInfo _dev;
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly MappingTable _mappings;
    private readonly Scheduler _scheduler;

    public FakeMappingIdentity(BalloonDevInfo dev, PageTable pages, PageLists lists, MappingTable mappings, Scheduler scheduler)
    {
        _dev = dev;
        _pages = pages;
        _lists = lists;
        _mappings = mappings;
        _scheduler = scheduler;
        dev.Mapping = mappings.NewDriverAddressSpace(AsBalloonMapBit, BalloonDevInfo.Id, this);
    }

    /// <summary>The fake mapping's <c>a_ops-&gt;migratepage</c>: the driver's, once it has probed.</summary>
    [Preemptible]
    int IDriverMigratePage.MigratePage(int newpage, int page, MigrateMode mode) =>
        _dev.MigratePage is { } driver ? driver.MigratePage(newpage, page, mode) : MigrateRc.EAgain;

    /// <summary>
    /// balloon_page_movable (v3.16): page_flags_cleared, !page_mapped, page_count == 1, then
    /// <c>mapping_balloon(page-&gt;mapping)</c>. Five separate unlocked reads; another CPU may run between
    /// any two, e.g. <c>move_to_new_page</c> storing an anon_vma in <c>mapping</c> (defect 1).
    /// </summary>
    [Preemptible]
    public bool Movable(int page)
    {
        using var _ = _scheduler.Current.Path.Enter("balloon_page_movable");
        if (!_pages.PageFlagsCleared(page)) return false;
        _scheduler.Preempt("balloon_page_movable: page->flags read");
        if (_pages.PageMapped(page)) return false;
        _scheduler.Preempt("balloon_page_movable: page->_mapcount read");
        if (_pages.Count[page] != 1) return false;
        _scheduler.Preempt("balloon_page_movable: page->_count read");
        int mapping = _pages.Mapping[page];
        _scheduler.Preempt("balloon_page_movable: page->mapping read");
        return MappingBalloon(mapping, page);
    }

    /// <summary>__is_movable_balloon_page (v3.16): <c>mapping_balloon(page-&gt;mapping)</c>, dereferencing it.</summary>
    public bool IsMovableBalloonPage(int page) => MappingBalloon(_pages.Mapping[page], page);

    /// <summary>isolated_balloon_page (v3.16): flags clear, not mapped, page_count &gt;= 2, balloon mapping.</summary>
    public bool IsolatedBalloonPage(int page) =>
        _pages.PageFlagsCleared(page) && !_pages.PageMapped(page) && _pages.Count[page] >= 2 && IsMovableBalloonPage(page);

    /// <summary>balloon_page_isolate's re-check (v3.16): balloon mapping and exactly the balloon's and our reference.</summary>
    public bool IsolationRecheck(int page) => IsMovableBalloonPage(page) && _pages.Count[page] == 2;

    /// <summary>balloon_page_insert (v3.16): <c>page-&gt;mapping</c> = the balloon mapping.</summary>
    public void Mark(int page) => _pages.Mapping[page] = _dev.Mapping;

    /// <summary>balloon_page_delete (v3.16): mapping NULL and list_del from whatever list the page is on.</summary>
    public void Delete(int page)
    {
        _pages.Mapping[page] = 0;
        _lists.Del(page);
    }

    public void OnIsolate(int page) { }

    public void OnPutback(int page) { }

    /// <summary>balloon_page_device (v3.16): <c>page-&gt;mapping-&gt;private_data</c>; only the balloon mapping has ours.</summary>
    public int Device(int page) => _pages.Mapping[page] is var mapping and not 0 ? _mappings.PrivateData(mapping) : 0;

    /// <summary>balloon_page_migrate (v3.16): <c>page-&gt;mapping-&gt;a_ops-&gt;migratepage</c> if there is a mapping.</summary>
    [Preemptible]
    public int CallMigratepage(int newpage, int page, MigrateMode mode)
    {
        int mapping = _pages.Mapping[page];
        return mapping != 0 ? _mappings.CallDriverMigratePage(mapping, newpage, page, mode) : MigrateRc.EAgain;
    }

    public bool HasBalloonIdentity(int page) => _dev.Mapping != 0 && _pages.Mapping[page] == _dev.Mapping;

    public bool ListedPageMovable(int page) => HasBalloonIdentity(page);

    /// <summary>The first page of the run whose mapping is not the balloon's (a vector search).</summary>
    public int FirstUnmovableListed(int from, int to)
    {
        if (_dev.Mapping == 0) return from; // no balloon mapping: no page has it
        int i = _pages.Mapping.AsSpan()[from..to].IndexOfAnyExcept(_dev.Mapping);
        return i < 0 ? to : from + i;
    }

    /// <summary>mapping_balloon: a non-NULL mapping whose <c>flags</c> have AS_BALLOON_MAP (a KASAN report if it is not an address_space).</summary>
    private bool MappingBalloon(int mapping, int page) =>
        mapping != 0 && (_mappings.ReadFlags(mapping, page) & AsBalloonMapBit) != 0;
}
