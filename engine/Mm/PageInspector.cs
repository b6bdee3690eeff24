using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Reads one page's state into a <see cref="PageInfo"/> without changing anything (no locks, no preemption
/// points): what a debugger attached to the simulated kernel would see.
/// </summary>
internal sealed class PageInspector(PageTable pages, PageLists lists, Node node, MappingTable mappings, BalloonDevInfo dev,
    IBalloonPageIdentity identity, IPerCpuPages? pcp = null, Pagevecs? pagevecs = null)
{
    /// <summary>v3.16 pageflag names, in bit order, as dump_page prints them, then 6.1's workingset (<see cref="PG.Workingset"/>).</summary>
    public static readonly string[] FlagNames =
    [
        "locked", "error", "referenced", "uptodate", "dirty", "lru", "active", "slab", "owner_priv_1", "arch_1",
        "reserved", "private", "private_2", "writeback", "head", "tail", "swapcache", "mappedtodisk", "reclaim",
        "swapbacked", "unevictable", "mlocked", "workingset",
    ];

    public PageInfo Inspect(int pfn)
    {
        var zone = node.ZoneOf(pfn);
        var flags = FlagNames.Where((_, bit) => (pages.Flags[pfn] & (1u << bit)) != 0).ToArray();
        string? type = pages.PageBuddy(pfn) ? "buddy" : pages.PageBalloon(pfn) ? "balloon" : null;
        return new PageInfo(pfn, zone.Name, ((PageKind)pages.Kind[pfn]).ToString().ToLowerInvariant(), flags,
            pages.Count[pfn], pages.MapCount[pfn], type, DescribeMapping(pages.Mapping[pfn]), pages.Private[pfn],
            zone.Types.Names[zone.GetPageblockMigratetype(pfn)], zone.PageblockSkip[zone.PageblockIndex(pfn)],
            ListOf(pfn, zone), pages.Content[pfn]);
    }

    /// <summary>
    /// Balloon pages on the balloon list that compaction can never isolate again (legacy's defect 2: migration
    /// cleared the new page's balloon mapping), as a mask over PFNs. A corrupted list is walked only as far as it
    /// holds together.
    /// </summary>
    public bool[] BalloonUnmovable()
    {
        var mask = new bool[pages.NrPages];
        int page = lists.Next(dev.Pages);
        for (int steps = 0; page != dev.Pages && !lists.IsHead(page) && !PageLists.IsPoison(page) && steps <= pages.NrPages; steps++)
        {
            mask[page] = !identity.ListedPageMovable(page);
            page = lists.Next(page);
        }
        return mask;
    }

    private string DescribeMapping(int handle)
    {
        if (handle == 0) return "none";
        if (handle == MappingTable.SwapperSpace) return "swapper_space";
        if (handle == dev.Mapping) return "balloon address_space";
        return mappings.KindOf(handle) switch
        {
            MappingObject.AnonVma => "anon_vma",
            MappingObject.AddressSpace => "address_space",
            _ => "freed object",
        };
    }

    /// <summary>The list head reached by following lru.next (at most NrPages steps), named; or the pagevec holding it.</summary>
    private string ListOf(int pfn, Zone zone)
    {
        for (int cpu = 0; pagevecs is not null && cpu < pagevecs.Cpus; cpu++)
            if (pagevecs.LruAdd(cpu).Contains(pfn)) return $"lru_add_pvec of cpu{cpu}";
        if (!lists.OnAList(pfn)) return "none";
        int node = lists.Next(pfn);
        for (int steps = 0; !lists.IsHead(node); steps++)
        {
            if (PageLists.IsPoison(node) || steps > pages.NrPages) return "corrupt";
            node = lists.Next(node);
        }
        return HeadName(node, zone);
    }

    private string HeadName(int head, Zone zone)
    {
        if (head == dev.Pages) return "balloon pages";
        foreach (var z in node.Zones)
        {
            for (int l = 0; l < Zone.NrLruLists; l++)
                if (z.LruHead[l] == head) return node.NodeLruvec ? $"node lruvec {LruNames[l]}" : $"{z.Name} {LruNames[l]}";
            for (int order = 0; order < Zone.MaxOrder; order++)
                for (int mt = 0; mt < z.Types.Count; mt++)
                    if (z.FreeList(order, mt) == head) return $"{z.Name} free_area[{order}].free_list[{z.Types.Names[mt]}]";
        }
        return pcp?.ListName(head) ?? "a private list (compaction's or migration's)";
    }

    private static readonly string[] LruNames = ["inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable"];
}
