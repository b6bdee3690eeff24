using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Engine.Migrate.V4_8;

/// <summary>
/// The driver-facing half of v4.8's non-LRU movable pages (bda807d44454 "mm: migrate: support non-lru movable page
/// migration"; the functions live in v4.8 mm/compaction.c): a driver tags a page it owns with
/// <c>__SetPageMovable(page, mapping)</c> (its mapping | PAGE_MAPPING_MOVABLE), lets go with
/// <c>__ClearPageMovable</c> (only the tag stays: "movable type, owner gone"), and the core confirms a lockless
/// <c>__PageMovable</c> with <c>PageMovable</c> under the page lock: the tag, a mapping, and an <c>isolate_page</c>
/// in its a_ops. All three expect the page locked (VM_BUG_ON_PAGE otherwise).
/// </summary>
[KernelPart("migration", PartVersion.V4_8)]
internal sealed class MovablePage(PageTable pages, MappingTable mappings, Sanitizer sanitizer)
{
    /// <summary>PageMovable (v4.8): <c>__PageMovable</c>, and <c>page_mapping(page)</c> has <c>a_ops-&gt;isolate_page</c>.</summary>
    public bool PageMovable(int page)
    {
        AssertLocked(page, "PageMovable");
        return pages.PageMovableUnlocked(page) && Ops(page) is not null;
    }

    /// <summary>
    /// The a_ops of the page's owner: <c>page_mapping(page)-&gt;a_ops</c>, which v4.8's page_mapping reaches by masking
    /// the tag bits off <c>page-&gt;mapping</c>; null when the owner let go (mapping is the bare tag).
    /// </summary>
    public IMovableMappingOps? Ops(int page) => mappings.MovableOps(pages.Mapping[page] & ~MappingTable.PageMappingFlags);

    /// <summary>__SetPageMovable (v4.8): <c>page-&gt;mapping = mapping | PAGE_MAPPING_MOVABLE</c>.</summary>
    public void SetPageMovable(int page, int mapping)
    {
        AssertLocked(page, "__SetPageMovable");
        if ((mapping & MappingTable.PageMappingMovable) != 0) sanitizer.VmBugOnPage(page, "(unsigned long)mapping & PAGE_MAPPING_MOVABLE", "__SetPageMovable", pages);
        pages.Mapping[page] = mapping | MappingTable.PageMappingMovable;
    }

    /// <summary>
    /// __ClearPageMovable (v4.8): keep only PAGE_MAPPING_MOVABLE of <c>page-&gt;mapping</c>, so that migration sees a
    /// page its owner released while isolated (<c>__PageMovable</c> still true, <c>PageMovable</c> false).
    /// </summary>
    public void ClearPageMovable(int page)
    {
        AssertLocked(page, "__ClearPageMovable");
        if (!PageMovable(page)) sanitizer.VmBugOnPage(page, "!PageMovable(page)", "__ClearPageMovable", pages);
        pages.Mapping[page] &= MappingTable.PageMappingMovable;
    }

    private void AssertLocked(int page, string function)
    {
        if (!pages.PageLocked(page)) sanitizer.VmBugOnPage(page, "!PageLocked(page)", function, pages);
    }
}
