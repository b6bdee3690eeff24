using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// <c>mem_map</c>: the <c>struct page</c> array as struct-of-arrays indexed by PFN (no object per page).
/// Field meanings follow v3.16 include/linux/mm_types.h:
/// <list type="bullet">
/// <item><c>Flags</c>: <see cref="PG"/> bits.</item>
/// <item><c>Count</c>: <c>_count</c>; 0 = free.</item>
/// <item><c>MapCount</c>: <c>_mapcount</c>; -1 unmapped, -128 PageBuddy, -256 PageBalloon (v3.18).</item>
/// <item><c>Mapping</c>: a <see cref="MappingTable"/> handle, bit 0 = PAGE_MAPPING_ANON (bit 1 = v4.8's PAGE_MAPPING_MOVABLE); 0 = NULL.</item>
/// <item><c>Private</c>: buddy order of a PageBuddy page; the balloon device of a v3.18 balloon page.</item>
/// <item><c>Index</c>: file offset, or the freepage migratetype of a free page.</item>
/// <item><c>Content</c>: token standing for the page's data; migration must move it, never lose or copy it.</item>
/// </list>
/// The <c>lru</c> list_head lives in <see cref="PageLists"/>.
/// </summary>
internal sealed class PageTable : ISnapshotState
{
    public const int PageBuddyMapcountValue = -128;
    public const int PageBalloonMapcountValue = -256;

    /// <summary>The bytes of one struct page here: the arrays below, one element each.</summary>
    public const int BytesPerPage = sizeof(uint) + 5 * sizeof(int) + sizeof(long) + sizeof(byte);

    public readonly int NrPages;

    /// <summary>The MAX_ORDER blocks changed since the checks last looked (every field's writes mark them).</summary>
    [NotState("marks for the checks, saved with the pages (Save); their dirty bits are about restores, not the guest")]
    public readonly PageChanges Changes;

    public readonly PageField<uint> Flags;
    public readonly PageField<int> Count;
    public readonly PageField<int> MapCount;
    public readonly PageField<int> Mapping;
    public readonly PageField<int> Private;
    public readonly PageField<int> Index;
    public readonly PageField<long> Content;
    public readonly PageField<byte> Kind;

    public PageTable(int nrPages)
    {
        NrPages = nrPages;
        Changes = new PageChanges(nrPages);
        Flags = new(nrPages, Changes);
        Count = new(nrPages, Changes);
        MapCount = new(nrPages, Changes);
        MapCount.Fill(-1, 0, nrPages);
        Mapping = new(nrPages, Changes);
        Private = new(nrPages, Changes);
        Index = new(nrPages, Changes);
        Content = new(nrPages, Changes);
        Kind = new(nrPages, Changes);
    }

    /// <summary>
    /// The fields every allocation writes (<c>_count</c>, flags, mapping, the kind) of [<paramref name="pfn"/>,
    /// +<paramref name="n"/>) faulted in writable before the allocator reads them (<see cref="HostMemory"/>). The others are
    /// resident from boot (<c>_mapcount</c>, filled with -1; <c>private</c>, written at each MAX_ORDER block's head), written
    /// before they are read (the index), or written only for pages that hold data (the content).
    /// </summary>
    public void PrefaultWritable(int pfn, int n)
    {
        Count.PrefaultWritable(pfn, n);
        Flags.PrefaultWritable(pfn, n);
        Mapping.PrefaultWritable(pfn, n);
        Kind.PrefaultWritable(pfn, n);
    }

    /// <summary>Record every access to a page field in <paramref name="accesses"/> from now on (null: stop).</summary>
    public void Track(StepAccesses? accesses)
    {
        Flags.Track(accesses);
        Count.Track(accesses);
        MapCount.Track(accesses);
        Mapping.Track(accesses);
        Private.Track(accesses);
        Index.Track(accesses);
        Content.Track(accesses);
        Kind.Track(accesses);
    }

    // The flag and state tests below are inlined always, as the fields' accessors are (PageField's indexer).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Test(int pfn, PG flag) => (Flags[pfn] & (uint)flag) != 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int pfn, PG flag) => Flags[pfn] |= (uint)flag;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Clear(int pfn, PG flag) => Flags[pfn] &= ~(uint)flag;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PageBuddy(int pfn) => IsBuddy(MapCount[pfn]);
    public bool PageBalloon(int pfn) => IsBalloon(MapCount[pfn]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PageLru(int pfn) => Test(pfn, PG.Lru);
    public bool PagePrivate(int pfn) => Test(pfn, PG.Private);
    public bool PageLocked(int pfn) => Test(pfn, PG.Locked);

    /// <summary>page_mapped(): <c>_mapcount &gt;= 0</c>; buddy and balloon values are "not mapped".</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PageMapped(int pfn) => IsMapped(MapCount[pfn]);

    /// <summary>
    /// __PageMovable() (v4.8 page-flags.h): the low two bits of <c>page-&gt;mapping</c> are PAGE_MAPPING_MOVABLE. A
    /// lockless read that may be stale; <c>PageMovable()</c> confirms it under the page lock.
    /// </summary>
    public bool PageMovableUnlocked(int pfn) => (Mapping[pfn] & MappingTable.PageMappingFlags) == MappingTable.PageMappingMovable;

    /// <summary>PageIsolated() (v4.8): PG_isolated, a non-LRU movable page the migration core has isolated.</summary>
    public bool PageIsolated(int pfn) => Test(pfn, PG.Isolated);

    /// <summary>PageAnon(): bit 0 of <c>page-&gt;mapping</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PageAnon(int pfn) => IsAnon(Mapping[pfn]);

    // The predicates above on values already read (a scan over the page arrays as spans, /proc/kpageflags).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBuddy(int mapCount) => mapCount == PageBuddyMapcountValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBalloon(int mapCount) => mapCount == PageBalloonMapcountValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsMapped(int mapCount) => mapCount >= 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsAnon(int mapping) => (mapping & MappingTable.PageMappingAnon) != 0;

    /// <summary>page_order() of a PageBuddy page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PageOrder(int pfn) => Private[pfn];

    /// <summary>set_page_order(): order into private, then __SetPageBuddy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetPageOrder(int pfn, int order)
    {
        Private[pfn] = order;
        MapCount[pfn] = PageBuddyMapcountValue;
    }

    /// <summary>rmv_page_order(): __ClearPageBuddy, then private = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RmvPageOrder(int pfn)
    {
        MapCount[pfn] = -1;
        Private[pfn] = 0;
    }

    /// <summary>The fields dump_page() prints, for report messages.</summary>
    public string DumpPage(int pfn) =>
        $"count:{Count[pfn]} mapcount:{MapCount[pfn]} mapping:{Mapping[pfn]:x} flags:{Flags[pfn]:x}";

    /// <summary>page_flags_cleared() of the pre-redesign balloon header: no PAGE_FLAGS_CHECK_AT_PREP flag set.</summary>
    public bool PageFlagsCleared(int pfn) => (Flags[pfn] & (uint)PG.CheckAtPrep) == 0;

    public object Save() => new Saved(Flags.ToArray(), Count.ToArray(), MapCount.ToArray(), Mapping.ToArray(), Private.ToArray(),
        Index.ToArray(), Content.ToArray(), Kind.ToArray(), (byte[])Changes.Marks.Clone());

    /// <summary>Restoring the snapshot last restored, only the chunks written since are copied back (<see cref="PageChanges.Dirty"/>).</summary>
    public void Restore(object saved)
    {
        var s = (Saved)saved;
        var dirty = ReferenceEquals(s, _restoredFrom) ? Changes.DirtyRuns() : null;
        Flags.Restore(s.Flags, dirty);
        Count.Restore(s.Count, dirty);
        MapCount.Restore(s.MapCount, dirty);
        Mapping.Restore(s.Mapping, dirty);
        Private.Restore(s.Private, dirty);
        Index.Restore(s.Index, dirty);
        Content.Restore(s.Content, dirty);
        Kind.Restore(s.Kind, dirty);
        _restoredFrom = s;
    }

    /// <summary>Once every part is restored (the others read which chunks are dirty): the marks as they were saved.</summary>
    public void EndRestore() => Changes.Restored(_restoredFrom!.Marks);

    /// <summary>The snapshot's page arrays the pages were last restored from.</summary>
    [NotState("which snapshot the pages were last restored from, to copy back only what was written since")]
    private Saved? _restoredFrom;

    private sealed record Saved(uint[] Flags, int[] Count, int[] MapCount, int[] Mapping, int[] Private, int[] Index, long[] Content, byte[] Kind,
        byte[] Marks);
}
