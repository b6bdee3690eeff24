using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// <c>struct zone</c> (v3.16 mmzone.h): a PFN range with its own free areas, locks, LRU lists, watermarks,
/// pageblock bits and compaction state. The fields later kernels added (6.1: <see cref="WatermarkBoost"/>,
/// <see cref="NrReservedHighatomic"/>, <see cref="CompactInitMigratePfn"/>, <see cref="CompactInitFreePfn"/>) stay at their
/// boot values in designs whose page allocator and compaction are older.
/// Invariant: Σ <see cref="NrFree"/>[o]·2^o = Stat[NrFreePages] + pages isolated by compaction's free scanner
/// are excluded from both, and so are pages on the optional per-cpu lists (PageAlloc/PerCpuPagesets).
/// </summary>
internal sealed class Zone : ISnapshotState
{
    public const int MaxOrder = 11;
    public const int PageblockOrder = 9;
    public const int PageblockNrPages = 1 << PageblockOrder;
    public const int WmarkMin = 0, WmarkLow = 1, WmarkHigh = 2;

    /// <summary>LRU list indices (enum lru_list).</summary>
    public const int LruInactiveAnon = 0, LruActiveAnon = 1, LruInactiveFile = 2, LruActiveFile = 3, LruUnevictable = 4, NrLruLists = 5;

    public Zone(int index, string name, int startPfn, int endPfn, PageLists lists, Scheduler scheduler, MigrateTypes types)
    {
        Index = index;
        Types = types;
        Name = name;
        StartPfn = startPfn;
        EndPfn = endPfn;
        _managedPages = new SharedArray(scheduler, 1);
        ManagedPages = endPfn - startPfn;
        FreeListHead = new int[MaxOrder * types.Count];
        for (int i = 0; i < FreeListHead.Length; i++) FreeListHead[i] = lists.NewHead();
        LruHead = new int[NrLruLists];
        for (int i = 0; i < NrLruLists; i++) LruHead[i] = lists.NewHead();
        int blocks = (endPfn - startPfn + PageblockNrPages - 1) / PageblockNrPages;
        PageblockMigratetype = new byte[blocks];
        Array.Fill(PageblockMigratetype, (byte)types.Movable);
        PageblockSkip = new bool[blocks];
        Lock = new SimLock(scheduler, $"zone[{name}]->lock");
        LruLock = new SimLock(scheduler, $"zone[{name}]->lru_lock");
        // Compaction's fields start as boot leaves them, zeroed (free_area_init_core, 6.1's zone_init_internals, set none).
        // The cached PFNs' 0 lies below every zone's first PFN on x86-64, whose DMA starts at PFN 1 (here at 0): unset.
        // compact_zone reads an unset migrate PFN as the zone start (stored here at once: only raises follow) and an unset
        // free PFN (-1 here) as the zone's last pageblock; 6.1's whole-zone runs do not read it, and their
        // update_pageblock_skip, which only lowers it, leaves it unset. compact_order_failed 0: after the first deferral
        // every order is deferred until a success raises it ("mm/compaction: initialize compact_order_failed to
        // MAX_ORDER", 2015, was not merged).
        CompactCachedFreePfn = -1;
        CompactCachedMigratePfn = [startPfn, startPfn];
        CompactOrderFailed = 0;
        NrFree = new SharedArray(scheduler, MaxOrder);
        Stat = new SharedArray(scheduler, (int)ZoneStat.Count);
        RecentScanned = new SharedArray(scheduler, 2);
        RecentRotated = new SharedArray(scheduler, 2);
    }

    public int Index { get; }
    public string Name { get; }
    public int StartPfn { get; }
    /// <summary>zone_end_pfn(): one past the last PFN.</summary>
    public int EndPfn { get; }
    public int SpannedPages => EndPfn - StartPfn;
    /// <summary>managed_pages; the balloon lowers it (<see cref="AdjustManagedPageCount"/>).</summary>
    public long ManagedPages
    {
        get => _managedPages[0];
        set => _managedPages.Set(0, value);
    }

    /// <summary>adjust_managed_page_count: <paramref name="count"/> pages more (fewer) in managed_pages.</summary>
    public void AdjustManagedPageCount(long count) => _managedPages.Add(0, count);

    private readonly SharedArray _managedPages;

    /// <summary>free_area[order].nr_free: free blocks of each order, all migrate types.</summary>
    public readonly SharedArray NrFree;
    /// <summary>The migratetype numbering of the page allocator's version: how many free lists each order has.</summary>
    public MigrateTypes Types { get; }

    /// <summary>free_area[order].free_list[mt] heads, at [order * Types.Count + mt].</summary>
    public int[] FreeListHead { get; }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FreeList(int order, int mt) => FreeListHead[order * Types.Count + mt];

    /// <summary>
    /// lruvec lists (one memcg): the zone's own up to v4.7; from v4.8 the node's, the same heads in every zone of the
    /// node (<see cref="ShareNodeLruvec"/>).
    /// </summary>
    public int[] LruHead { get; }

    /// <summary>vm_stat[] of this zone.</summary>
    public readonly SharedArray Stat;

    /// <summary><c>_watermark[WMARK_MIN..HIGH]</c>, without the boost.</summary>
    public long[] Watermark { get; } = new long[3];
    /// <summary><c>watermark_boost</c> (6.1): raised by fragmenting fallbacks, added to every watermark (wmark_pages).</summary>
    public long WatermarkBoost { get; set; }
    /// <summary><c>wmark_pages(zone, i)</c> (6.1): the watermark with the boost on top.</summary>
    public long WmarkPages(int i) => Watermark[i] + WatermarkBoost;
    /// <summary><c>nr_reserved_highatomic</c> (6.1): pages in MIGRATE_HIGHATOMIC pageblocks.</summary>
    public long NrReservedHighatomic { get; set; }
    /// <summary>lowmem_reserve[classzone]: pages kept back from allocations that could have used a higher zone.</summary>
    public long[] LowmemReserve { get; set; } = [];

    public SimLock Lock { get; }
    /// <summary><c>zone-&gt;lru_lock</c> (v3.16); from v4.8 the node's lruvec lock, shared by its zones.</summary>
    public SimLock LruLock { get; private set; }

    /// <summary>
    /// The node lruvec (v4.8 "mm, vmscan: move LRU lists to node"; 6.1 <c>pgdat-&gt;__lruvec</c>): this zone's pages go on
    /// <paramref name="first"/>'s lists under its lock. The per-zone LRU counters (6.1's nr_zone_*) stay per zone.
    /// </summary>
    public void ShareNodeLruvec(Zone first)
    {
        first.LruHead.CopyTo(LruHead, 0);
        LruLock = first.LruLock;
    }

    /// <summary>Pageblock migratetype bits, per pageblock of this zone.</summary>
    public byte[] PageblockMigratetype { get; }
    /// <summary>PB_migrate_skip bit, per pageblock.</summary>
    public bool[] PageblockSkip { get; }

    // Compaction state (v3.16 struct zone, CONFIG_COMPACTION).
    public int CompactCachedFreePfn { get; set; }
    public int[] CompactCachedMigratePfn { get; }
    public bool CompactBlockskipFlush { get; set; }
    public int CompactConsidered { get; set; }
    public int CompactDeferShift { get; set; }
    public int CompactOrderFailed { get; set; }
    /// <summary>
    /// <c>compact_init_migrate_pfn</c> / <c>compact_init_free_pfn</c> (6.1): where __reset_isolation_suitable found the
    /// first source and the last target; 0 (the zeroed struct zone) until it first runs.
    /// </summary>
    public int CompactInitMigratePfn { get; set; }
    public int CompactInitFreePfn { get; set; }

    /// <summary>
    /// The per-cpu vmstat threshold of the zone's CPUs (<c>stat_threshold</c>, the same on every CPU;
    /// <see cref="Vmstat.StatThresholds"/>).
    /// </summary>
    public int StatThreshold { get; set; }
    /// <summary>
    /// <c>percpu_drift_mark</c>: set at boot where the CPUs' counter drift could hide a breached min watermark; 0 if none.
    /// </summary>
    public long PercpuDriftMark { get; set; }

    // Reclaim state (v3.16 struct zone and struct lruvec, mm/vmscan.c).
    /// <summary><c>pages_scanned</c>: LRU pages reclaim scanned since a page of this zone last reached the buddy lists.</summary>
    public long PagesScanned { get; set; }
    /// <summary><c>lruvec-&gt;reclaim_stat.recent_scanned[anon, file]</c>.</summary>
    public readonly SharedArray RecentScanned;
    /// <summary><c>lruvec-&gt;reclaim_stat.recent_rotated[anon, file]</c>.</summary>
    public readonly SharedArray RecentRotated;
    /// <summary><c>inactive_ratio</c> (calculate_zone_inactive_ratio): int_sqrt(10 × GiB), at least 1.</summary>
    public int InactiveRatio { get; set; } = 1;
    /// <summary><c>zone-&gt;flags</c>: ZONE_CONGESTED, ZONE_TAIL_LRU_DIRTY, ZONE_WRITEBACK, ZONE_OOM_LOCKED.</summary>
    public ZoneFlags Flags { get; set; }

    // Inlined always, as the page fields' accessors are (PageField's indexer).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Spans(int pfn) => pfn >= StartPfn && pfn < EndPfn;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PageblockIndex(int pfn) => (pfn - StartPfn) >> PageblockOrder;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetPageblockMigratetype(int pfn) => PageblockMigratetype[PageblockIndex(pfn)];
    public void SetPageblockMigratetype(int pfn, int mt) => PageblockMigratetype[PageblockIndex(pfn)] = (byte)mt;

    public long FreePages => Stat[(int)ZoneStat.NrFreePages];

    public override string ToString() => Name;

    /// <summary>Everything a zone's pages, allocations and compaction change (its PFN range and list heads are fixed at boot).</summary>
    public object Save() => new Saved(ManagedPages, NrFree.Save(), Stat.Save(), (long[])Watermark.Clone(),
        (long[])LowmemReserve.Clone(), Lock.Save(), LruLock.Save(), (byte[])PageblockMigratetype.Clone(), (bool[])PageblockSkip.Clone(),
        CompactCachedFreePfn, (int[])CompactCachedMigratePfn.Clone(), CompactBlockskipFlush, CompactConsidered, CompactDeferShift,
        CompactOrderFailed, PagesScanned, RecentScanned.Save(), RecentRotated.Save(), InactiveRatio, (int)Flags,
        WatermarkBoost, NrReservedHighatomic, CompactInitMigratePfn, CompactInitFreePfn, StatThreshold);

    public void Restore(object saved)
    {
        var s = (Saved)saved;
        ManagedPages = s.ManagedPages;
        NrFree.Restore(s.NrFree);
        Stat.Restore(s.Stat);
        s.Watermark.CopyTo(Watermark, 0);
        if (LowmemReserve.Length != s.LowmemReserve.Length) LowmemReserve = new long[s.LowmemReserve.Length];
        s.LowmemReserve.CopyTo(LowmemReserve, 0);
        Lock.Restore(s.Lock);
        LruLock.Restore(s.LruLock);
        s.PageblockMigratetype.CopyTo(PageblockMigratetype, 0);
        s.PageblockSkip.CopyTo(PageblockSkip, 0);
        CompactCachedFreePfn = s.CompactCachedFreePfn;
        s.CompactCachedMigratePfn.CopyTo(CompactCachedMigratePfn, 0);
        CompactBlockskipFlush = s.CompactBlockskipFlush;
        CompactConsidered = s.CompactConsidered;
        CompactDeferShift = s.CompactDeferShift;
        CompactOrderFailed = s.CompactOrderFailed;
        PagesScanned = s.PagesScanned;
        RecentScanned.Restore(s.RecentScanned);
        RecentRotated.Restore(s.RecentRotated);
        InactiveRatio = s.InactiveRatio;
        Flags = (ZoneFlags)s.Flags;
        WatermarkBoost = s.WatermarkBoost;
        NrReservedHighatomic = s.NrReservedHighatomic;
        CompactInitMigratePfn = s.CompactInitMigratePfn;
        CompactInitFreePfn = s.CompactInitFreePfn;
        StatThreshold = s.StatThreshold;
    }

    private sealed record Saved(long ManagedPages, long[] NrFree, long[] Stat, long[] Watermark, long[] LowmemReserve, object Lock,
        object LruLock, byte[] PageblockMigratetype, bool[] PageblockSkip, int CompactCachedFreePfn, int[] CompactCachedMigratePfn,
        bool CompactBlockskipFlush, int CompactConsidered, int CompactDeferShift, int CompactOrderFailed, long PagesScanned,
        long[] RecentScanned, long[] RecentRotated, int InactiveRatio, int Flags, long WatermarkBoost, long NrReservedHighatomic,
        int CompactInitMigratePfn, int CompactInitFreePfn, int StatThreshold);
}
