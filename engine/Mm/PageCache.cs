using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The shadow entries of the page-cache trees (v3.16 <c>mapping-&gt;page_tree</c>'s exceptional entries, counted in
/// <c>mapping-&gt;nrshadows</c>; 6.1 <c>i_pages</c>' value entries): where reclaim evicted a page-cache page, the
/// version's workingset shadow (<see cref="IWorkingset.Eviction"/>) stays at the page's index until a read puts a page
/// there again (<see cref="Filemap"/>). A resident page's slot is not kept here: the page's mapping and index say where
/// it is. A page the workload frees (truncation) leaves no entry. Shadows are never reclaimed (the shadow-node shrinker
/// is not modelled).
/// </summary>
internal sealed class PageCache : ISnapshotState
{
    /// <summary>Per address space (its mapping handle, so in the order the files were created), the shadow at each index (0: none).</summary>
    private readonly SortedDictionary<int, long[]> _shadows = [];

    /// <summary>Shadow entries in all the trees (the sum of the mappings' <c>nrshadows</c>).</summary>
    public long NrShadows { get; private set; }

    /// <summary>page_cache_tree_delete: the page at <paramref name="index"/> of <paramref name="mapping"/> leaves <paramref name="shadow"/> (0: nothing).</summary>
    public void StoreShadow(int mapping, int index, long shadow)
    {
        if (shadow == 0) return;
        if (!_shadows.TryGetValue(mapping, out var tree) || tree.Length <= index)
        {
            // A power of two: the length depends on the highest index stored, not on the order of the stores.
            var grown = new long[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)index + 1)];
            tree?.CopyTo(grown, 0);
            _shadows[mapping] = tree = grown;
        }
        tree[index] = shadow;
        NrShadows++;
    }

    /// <summary>page_cache_tree_insert: a new page takes the slot; the shadow it replaces (0: none).</summary>
    public long TakeShadow(int mapping, int index)
    {
        if (!_shadows.TryGetValue(mapping, out var tree) || index >= tree.Length || tree[index] == 0) return 0;
        long shadow = tree[index];
        tree[index] = 0;
        NrShadows--;
        return shadow;
    }

    /// <summary>XA_CHUNK_SHIFT (6.1 lib/xarray.c): a node of a page-cache tree holds 64 slots.</summary>
    public const int XaChunkShift = 6;

    /// <summary>
    /// The page-cache trees' leaf nodes that hold shadow entries and nothing else: what 6.1's workingset_update_node
    /// counts in WORKINGSET_NODES (a node whose count equals its nr_values). 6.1.78's swap cache sets no update callback
    /// on its trees (6.3's "swap_state: update shadow_nodes for anonymous page" added it), so its nodes are not counted
    /// and this is the whole of WORKINGSET_NODES. A node covers 64 consecutive indexes; a tree whose one entry is at
    /// index 0 keeps it in its root, with no node (xas_shrink). Resident pages are found in <paramref name="pages"/> (a
    /// page-cache page of the file at an index in the node).
    /// </summary>
    public long ShadowNodes(PageTable pages)
    {
        if (NrShadows == 0) return 0;
        var nodeHasPage = _shadows.ToDictionary(kv => kv.Key, kv => new bool[(kv.Value.Length >> XaChunkShift) + 1]);
        var fileHasPage = new HashSet<int>();
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
        {
            if (pages.Kind[pfn] != (byte)PageKind.File || !nodeHasPage.TryGetValue(pages.Mapping[pfn], out var hasPage)) continue;
            fileHasPage.Add(pages.Mapping[pfn]);
            int node = pages.Index[pfn] >> XaChunkShift;
            if (node < hasPage.Length) hasPage[node] = true;
        }
        long nodes = 0;
        foreach (var (mapping, tree) in _shadows)
        {
            int lastShadow = Array.FindLastIndex(tree, shadow => shadow != 0);
            if (lastShadow < 0 || (lastShadow == 0 && !fileHasPage.Contains(mapping))) continue; // none, or the root's one entry
            for (int first = 0; first <= lastShadow; first += 1 << XaChunkShift)
                if (!nodeHasPage[mapping][first >> XaChunkShift]
                    && Array.FindIndex(tree, first, Math.Min(1 << XaChunkShift, tree.Length - first), shadow => shadow != 0) >= 0)
                    nodes++;
        }
        return nodes;
    }

    /// <summary>Where every shadow entry is: files in the order they were created, indexes ascending.</summary>
    public List<(int Mapping, int Index)> Entries()
    {
        var entries = new List<(int, int)>((int)NrShadows);
        if (NrShadows == 0) return entries;
        foreach (var (mapping, tree) in _shadows)
            for (int i = 0; i < tree.Length; i++)
                if (tree[i] != 0) entries.Add((mapping, i));
        return entries;
    }

    public object Save() => _shadows.Select(kv => (kv.Key, (long[])kv.Value.Clone())).ToArray();

    public void Restore(object saved)
    {
        _shadows.Clear();
        NrShadows = 0;
        foreach (var (mapping, tree) in (ValueTuple<int, long[]>[])saved)
        {
            _shadows[mapping] = (long[])tree.Clone();
            NrShadows += tree.Count(shadow => shadow != 0);
        }
    }
}
