namespace BalloonScript.Engine.Designs;

/// <summary>
/// A kernel design: a named, consistent set of kernel parts of one kernel state (in the manner of NodaTime's
/// <c>CalendarSystem</c>: a closed set of values, compared by reference, parsed once at the boundary).
/// Each simulation is built for one design; <see cref="Parts"/> says which version of each part it is composed of.
/// </summary>
public sealed class KernelDesign
{
    /// <summary>Balloon compaction as merged for v3.8 and kept until v3.17; v3.16 allocator, compaction and migration.</summary>
    public static KernelDesign Legacy { get; } = new("legacy", "v3.16", "v3.8–v3.17 (pre-d6d86c0)",
        "the balloon marked through a fake address_space (AS_BALLOON_MAP): all four defects",
        new(PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16,
            PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.None, PartVersion.V3_16));

    /// <summary>d6d86c0 as in v3.18, on the v3.16 allocator, compaction and migration the patch was applied to.</summary>
    public static KernelDesign Redesign { get; } = new("redesign", "v3.18", "d6d86c0a7f8d",
        "PageBalloon, PG_private = on the list, no lru_lock dependency; keeps the dequeue next-cursor race",
        new(PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16,
            PartVersion.V3_18, PartVersion.V3_18, PartVersion.V3_18, PartVersion.V3_18, PartVersion.V3_16, PartVersion.V3_18, PartVersion.None, PartVersion.V3_16));

    /// <summary>The redesign with the v4.5 race fixes and the 2019 stable fix of unmap_and_move's newpage test.</summary>
    public static KernelDesign Fixed { get; } = new("fixed", "v4.5", "d6d86c0 + v4.5 fixes + 2019 stable fix",
        "pages_lock held across the dequeue walk, pages released under balloon_lock, newpage fate saved before migration",
        new(PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16, PartVersion.V3_16,
            PartVersion.V3_18, PartVersion.V3_18, PartVersion.V4_5, PartVersion.Stable2019, PartVersion.V3_16, PartVersion.V4_5, PartVersion.V4_5, PartVersion.V3_16));

    /// <summary>
    /// v4.8 with b1123ea6d3b3: balloon pages as generic non-LRU movable pages, the v4.8 migrate scanner and migration,
    /// kcompactd; the v3.16 page allocator, reclaim and compact_zone (docs/model.md says what is borrowed).
    /// </summary>
    public static KernelDesign Movable { get; } = new("movable", "v4.8", "b1123ea6d3b3",
        "the balloon as generic non-LRU movable pages: __SetPageMovable, isolate_movable_page, PG_isolated, balloon_aops; no balloon branch in compaction or migration",
        new(PartVersion.V3_16, PartVersion.V4_8, PartVersion.V3_16, PartVersion.V4_8, PartVersion.V3_16, PartVersion.V4_8, PartVersion.V4_8,
            PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_5, PartVersion.V4_5, PartVersion.V4_8));

    /// <summary>
    /// Linux 6.1 (Debian 12): the 6.1 page allocator, compaction (kcompactd, proactive compaction) and migrate_pages; the
    /// balloon is v4.8's non-LRU movable pages, which 6.1 keeps (movable_operations / balloon_mops and PageOffline in
    /// place of balloon_aops and PageBalloon), and so are move_to_new_page and putback_movable_pages; reclaim is 6.1's node reclaim (shrink_folio_list and the OOM killer v3.16's); the driver's fill_balloon / leak_balloon are 6.1's
    /// (allocation and the "Out of puff!" sleep outside balloon_lock), its page release v4.5's (docs/model.md says what differs).
    /// </summary>
    public static KernelDesign V6_1 { get; } = new("v6.1", "v6.1", "v6.1 (Debian 12; v4.8 balloon core)",
        "6.1 allocator (pcp lists up to order 3 and THP, HIGHATOMIC, watermark boost), compaction (fast scanners, kcompactd, proactive) and node reclaim",
        new(PartVersion.V6_1, PartVersion.V6_1, PartVersion.V6_1, PartVersion.V6_1, PartVersion.V6_1, PartVersion.V6_1, PartVersion.V6_1,
            PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_8, PartVersion.V4_8, PartVersion.V6_1, PartVersion.V4_5, PartVersion.V6_1, PartVersion.V6_1));

    /// <summary>Every design, in the order tables and plots show them.</summary>
    public static IReadOnlyList<KernelDesign> All { get; } = [Legacy, Redesign, Fixed, Movable, V6_1];

    private KernelDesign(string name, string kernel, string commit, string summary, DesignParts parts)
    {
        Name = name;
        Kernel = kernel;
        Commit = commit;
        Summary = summary;
        Parts = parts;
    }

    /// <summary>The name users type (<c>design="legacy"</c>).</summary>
    public string Name { get; }
    /// <summary>The kernel version the design models.</summary>
    public string Kernel { get; }
    /// <summary>The commit or release range the balloon code comes from.</summary>
    public string Commit { get; }
    /// <summary>One line on what distinguishes it.</summary>
    public string Summary { get; }
    /// <summary>Which version of each kernel part the design is composed of.</summary>
    public DesignParts Parts { get; }

    /// <summary>The names of <see cref="All"/>, in order.</summary>
    public static string[] Names => All.Select(d => d.Name).ToArray();

    /// <summary>The design called <paramref name="name"/>; an ArgumentException naming <paramref name="argument"/> and the valid names otherwise.</summary>
    public static KernelDesign Parse(string? name, string argument = "design")
    {
        Check.OneOf(name, argument, Names);
        return All.First(d => d.Name == name);
    }

    public override string ToString() => Name;
}
