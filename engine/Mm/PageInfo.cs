namespace BalloonScript.Engine.Mm;

/// <summary>
/// One page as a kernel debugger would show it (drgn's <c>struct page</c>, dump_page): its flags by kernel name,
/// <c>_count</c>, <c>_mapcount</c> and the page type it encodes, what <c>mapping</c> points to, <c>private</c>,
/// the migratetype and skip bit of its pageblock, the list its <c>lru</c> links it into, and the simulator's
/// content token and page kind.
/// </summary>
public sealed record PageInfo(
    int Pfn,
    string Zone,
    string Kind,
    string[] Flags,
    int Count,
    int Mapcount,
    string? PageType,
    string Mapping,
    int Private,
    string Migratetype,
    bool PageblockSkip,
    string List,
    long Content);
