using System.Buffers;
using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// What runs in the guest: processes with anonymous memory, page-cache files, kernel slab, accesses, and frees
/// that punch holes. Each anon populate is one new process (<see cref="Process"/>), each file populate one file,
/// each slab populate one slab cache. Pages come one by one from alloc_pages as faults and page-cache reads do
/// (order 0, the full allocator path: under pressure it reclaims, and may end in the OOM killer), and are set up
/// in the state the kernel leaves them in: anon = <c>_count</c> 1, <c>_mapcount</c> 0, anon_vma mapping,
/// PG_swapbacked, PG_active (page_add_new_anon_rmap, v3.16), pte young; file = <c>_count</c> 1, unmapped,
/// address_space mapping, on the inactive file LRU (read once, so PG_referenced: mark_page_accessed; PG_dirty for the
/// share written); slab = PG_slab, unmovable (or reclaimable, with a shrinker), on no list. A fatal signal (Ctrl-C) stops
/// a populate, a touch or a free early.
/// </summary>
internal sealed partial class Workload(PageTable pages, Node node, IPageAllocator allocator, IBuddyAllocator buddy, MappingTable mappings,
    Lru lru, ILruLists lruLists, Rmap rmap, ProcessTable processes, PageContents contents, SwapCache swapCache, SwapReadahead readahead,
    ReclaimableSlab reclaimableSlab,
    Munmap munmap, PageTablePages pageTables, IReclaim reclaim, VmStat vmstat, FatalSignal signal, FaultGfp faultGfp,
    PageCache pageCache, Filemap filemap, Time.SimClock clock)
{
    public static readonly string[] Patterns = ["interleave", "random"];
    public static readonly string[] TouchKinds = ["anon", "file", "all"];

    /// <summary>
    /// Order-0 pages a populate call may ask for: what the fast path can take above the low watermark while reclaim
    /// is not modelled; with reclaim, the guest's managed memory (reclaim, swap and the OOM killer decide the rest).
    /// </summary>
    public long AllocatablePages() =>
        reclaim.Modelled ? node.Zones.Sum(z => z.ManagedPages) : buddy.AllocatablePages(Zone.WmarkLow);

    /// <summary>
    /// A new process faulting in <paramref name="mib"/> of anonymous memory; returns the pages it got (fewer if the OOM
    /// killer chose it). Each fault first gives its address the page tables it lacks (<see cref="PageTablePages.Alloc"/>),
    /// then allocates its page with the version's <see cref="FaultGfp.AnonPage"/>.
    /// </summary>
    [Preemptible]
    public long Anon(double mib)
    {
        long n = PagesFor(mib);
        int anonVma = mappings.NewAnonVma();
        var process = processes.Spawn("anon", anonVma, (int)n);
        processes.Current = process;
        try
        {
            return Populate(n, faultGfp.AnonPage, () => process.MemDie || process.Exited, faults: true, (pfn, i) =>
            {
                pages.Mapping[pfn] = anonVma;
                pages.Index[pfn] = (int)i;
                pages.MapCount[pfn] = 0;
                pages.Flags[pfn] = (uint)(PG.SwapBacked | PG.Uptodate);
                pages.Kind[pfn] = (byte)PageKind.Anon;
                AddToLru(pfn, active: lruLists.NewAnonPageActive); // do_anonymous_page: the version's list
                node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrAnonPages, 1);
                rmap.MarkYoung(pfn);
                process.SetPte((int)i, pfn);
                process.AddRssFast(anon: 1, swapEnts: 0); // inc_mm_counter_fast
            }, faulting: process);
        }
        finally
        {
            processes.Current = null;
        }
    }

    /// <summary>
    /// A new file read into the page cache, each page read once (so referenced); <paramref name="dirty"/> of its pages
    /// (interleaved) were written since.
    /// </summary>
    [Preemptible]
    public long File(double mib, double dirty = 0)
    {
        Check.InRange(dirty, "dirty", 0.0, 1.0);
        long n = PagesFor(mib);
        int mapping = mappings.NewAddressSpace();
        double written = 0;
        return Populate(n, Gfp.HighUserMovable, () => false, faults: false, (pfn, i) =>
        {
            filemap.AddToPageCacheLru(pfn, mapping, (int)i); // a new file: no shadow to find
            // The read copies the page out once: mark_page_accessed (v3.16 do_generic_file_read; 6.1 filemap_read's
            // folio_mark_accessed), PG_referenced on a new page. (A written page: write_begin's FGP_ACCESSED, the same.)
            lru.MarkPageAccessed(pfn);
            var zone = node.ZoneOf(pfn);
            if ((written += dirty) >= 1.0 - 1e-9)
            {
                written -= 1.0;
                pages.Set(pfn, PG.Dirty); // account_page_dirtied
                zone.Stat.Add((int)ZoneStat.NrDirty, 1);
                zone.Stat.Add((int)ZoneStat.NrDirtied, 1);
            }
        });
    }

    /// <summary>A slab cache of <paramref name="mib"/>: unmovable, or reclaimable by its shrinker (__GFP_RECLAIMABLE).</summary>
    [Preemptible]
    public long Slab(double mib, bool reclaimable = false)
    {
        long n = PagesFor(mib);
        var stat = reclaimable ? ZoneStat.NrSlabReclaimable : ZoneStat.NrSlabUnreclaimable;
        return Populate(n, reclaimable ? Gfp.Kernel | Gfp.Reclaimable : Gfp.Kernel, () => false, faults: false, (pfn, _) =>
        {
            pages.Flags[pfn] = (uint)PG.Slab;
            pages.Kind[pfn] = (byte)PageKind.Slab;
            node.ZoneOf(pfn).Stat.Add((int)stat, 1);
            if (reclaimable) reclaimableSlab.Add(pfn);
        });
    }

    /// <summary>What <see cref="Free"/> may choose from: every resident page of the workload, or one kind.</summary>
    public static readonly string[] FreeKinds = ["all", "anon", "file", "slab"];

    /// <summary>
    /// Free <paramref name="fraction"/> of the workload's resident pages of <paramref name="kind"/> (mapped anon, file,
    /// slab, or all) in PFN order: <c>interleave</c> spreads the frees evenly (0.5 = every other page), <c>random</c>
    /// picks them with <paramref name="seed"/>. Returns the pages freed.
    /// </summary>
    // Its loop over every page runs once a call, and calls come a few at a time: optimised from the first call. Compiled
    // ahead of time (the Python bindings' ReadyToRun image) that loop stayed in the ahead-of-time code, which on-stack
    // replacement does not reach (a 32 GiB guest's free 341-373 -> 275-288 ms from Python, three runs each way).
    [Preemptible]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Free(double fraction, string pattern, long seed, string kind = "all")
    {
        Check.InRange(fraction, "fraction", 0.0, 1.0);
        Check.OneOf(pattern, "pattern", Patterns);
        Check.OneOf(kind, "kind", FreeKinds);
        var only = kind switch { "anon" => PageKind.Anon, "file" => PageKind.File, "slab" => PageKind.Slab, _ => PageKind.Free };
        lru.LruAddDrain(); // munmap (unmap_region) and truncate (__pagevec_release) drain this CPU's batches first
        // The candidates in a pooled buffer of one per page: a list grown page by page copied and zeroed its arrays
        // (on a 64 GiB guest, 8 Mi candidates: 64 MB written more than the 32 MB kept).
        int[] buffer = ArrayPool<int>.Shared.Rent(pages.NrPages);
        int candidates = 0;
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
            if ((only == PageKind.Free || pages.Kind[pfn] == (byte)only) && munmap.Freeable(pfn)) buffer[candidates++] = pfn;
        var chosen = Choose(buffer.AsSpan(0, candidates), fraction, pattern, seed);
        ArrayPool<int>.Shared.Return(buffer);
        // What each chosen page is now: another CPU may change it before its turn comes (Munmap.FreeChosen).
        var was = new (int Mapping, int Index)[chosen.Count];
        for (int i = 0; i < was.Length; i++) was[i] = (pages.Mapping[chosen[i]], pages.Index[chosen[i]]);
        int freed = 0;
        for (int i = 0; i < chosen.Count && !signal.Pending; i++)
            if (munmap.FreeChosen(chosen[i], was[i].Mapping, was[i].Index)) freed++;
        return freed;
    }

    /// <summary>
    /// Touch <paramref name="fraction"/> of the workload's pages of <paramref name="kind"/> (anon, file or all),
    /// chosen as <see cref="Free"/> chooses: a mapped anonymous page gets its pte young bit set, a page-cache
    /// page is read (mark_page_accessed), a swapped-out anonymous page is faulted back in (do_swap_page, which
    /// allocates and may reclaim), and a page-cache page reclaim evicted is read back in its file
    /// (<see cref="Filemap.ReadMissingPage"/>, which allocates too). The candidates are the resident pages in PFN order,
    /// then the swapped-out ones by process and address, then the evicted ones by file and index. Returns the pages
    /// touched.
    /// </summary>
    // Optimised from its first call, as Free (the same guest's touch of half its anonymous pages 104-107 -> 89-94 ms).
    [Preemptible]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Touch(double fraction, string kind, string pattern, long seed)
    {
        Check.InRange(fraction, "fraction", 0.0, 1.0);
        Check.OneOf(kind, "kind", TouchKinds);
        Check.OneOf(pattern, "pattern", Patterns);
        bool anon = kind != "file", file = kind != "anon";
        var resident = new List<int>();
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
            if (Resident(pfn, anon, file)) resident.Add(pfn);
        var swapped = new List<(Process Process, int Index)>();
        if (anon)
            foreach (var p in processes.All)
                for (int i = 0; i < p.PteCount; i++)
                    if (Process.IsSwapEntry(p.Pte(i))) swapped.Add((p, i));
        var evicted = file ? pageCache.Entries() : [];
        var chosen = Choose(Enumerable.Range(0, resident.Count + swapped.Count + evicted.Count).ToArray(), fraction, pattern, seed);
        long touched = 0;
        foreach (int c in chosen)
        {
            if (signal.Pending) break;
            if (c < resident.Count)
            {
                // A swap-in or read before this one may have reclaimed the page or OOM-killed its owner: touch what is still there.
                int pfn = resident[c];
                if (!Resident(pfn, anon, file)) continue;
                if (pages.Kind[pfn] == (byte)PageKind.Anon) rmap.MarkYoung(pfn);
                else lru.MarkPageAccessed(pfn);
                touched++;
            }
            else if (c < resident.Count + swapped.Count)
            {
                if (SwapIn(swapped[c - resident.Count].Process, swapped[c - resident.Count].Index)) touched++;
            }
            else if (filemap.ReadMissingPage(evicted[c - resident.Count - swapped.Count].Mapping,
                         evicted[c - resident.Count - swapped.Count].Index)) touched++;
        }
        return touched;
    }

    /// <summary>A mapped anonymous page (with <paramref name="anon"/>) or a referenced page-cache page (with <paramref name="file"/>).</summary>
    private bool Resident(int pfn, bool anon, bool file)
    {
        var k = (PageKind)pages.Kind[pfn];
        return (anon && k == PageKind.Anon && pages.PageMapped(pfn)) || (file && k == PageKind.File && pages.Count[pfn] > 0);
    }

    private long PagesFor(double mib)
    {
        long max = AllocatablePages();
        Check.InRange(mib, "mib", 0.0, max / 256.0);
        return (long)Math.Round(mib * 256);
    }

    /// <summary>
    /// Fault (<paramref name="faults"/>) or read in <paramref name="n"/> pages, one alloc_pages each; stops early when an
    /// allocation fails or <paramref name="stop"/> says the owner died. A fault counts PGFAULT whatever comes of it:
    /// v3.16's handle_mm_fault counts it before anything else, 6.1.78's mm_account_fault after, failed faults included.
    /// A fault of a process (<paramref name="faulting"/>) allocates the page tables its address lacks before its page.
    /// </summary>
    [Preemptible]
    private long Populate(long n, Gfp gfp, Func<bool> stop, bool faults, [Preemptible] Action<int, long> setUp,
        Process? faulting = null)
    {
        for (long i = 0; i < n; i++)
        {
            if (signal.Pending) return i;
            if (faults) vmstat.Count(VmEvent.Pgfault);
            if (faulting is not null)
            {
                faulting.CheckSyncRssStat();
                if (!pageTables.Alloc(faulting, (int)i, stop)) return i;
            }
            int pfn = allocator.AllocPages(0, gfp);
            if (pfn < 0) return i;
            if (stop())
            {
                buddy.PutPage(pfn);
                return i;
            }
            contents.Write(pfn); // the fault's zeroing (clear_user_highpage), the read, or the slab's constructor
            setUp(pfn, i);
            faulting?.AccountFault(major: false);
        }
        return n;
    }

    /// <summary>lru_cache_add onto the active or inactive list of the page's type.</summary>
    [Preemptible]
    private void AddToLru(int pfn, bool active)
    {
        if (active) pages.Set(pfn, PG.Active);
        lru.LruCacheAdd(pfn);
    }

    /// <summary>
    /// do_swap_page (v3.16, state level; 6.1 alike for a swap device that is not synchronous): the swap-cache page if
    /// there is one (a minor fault; a page read ahead is a readahead hit), else swapin_readahead reads it, and the
    /// window around it, into the swap cache (a major fault: pgmajfault; pswpin per page read), and the fault sleeps until
    /// its page's read completes, io_latency_ms later (lock_page_or_retry, v3.16; folio_lock_or_retry, 6.1), while time
    /// runs on for the rest of the guest (its reference keeps reclaim and migration off the page). If the PTE no longer
    /// holds the swap entry (an OOM kill during the reads emptied the page table) the page is let go; else the PTE
    /// maps it (do_page_add_anon_rmap makes a page read ahead anonymous: its anon_vma and index), MM_SWAPENTS →
    /// MM_ANONPAGES, swap_free, and with swap more than half full the swap copy is dropped (try_to_free_swap). False if
    /// no page could be had (VM_FAULT_OOM) or the fault found its PTE changed.
    /// </summary>
    [Preemptible]
    private bool SwapIn(Process process, int index)
    {
        // The entry was read before earlier faults of this touch; one of them may have OOM-killed the process
        // (exit_mmap cleared its page table): handle_pte_fault then finds no swap entry to fault in.
        int pte = process.Pte(index);
        if (!Process.IsSwapEntry(pte)) return false;
        // The fault is counted whatever comes of it: v3.16's handle_mm_fault counts PGFAULT first, 6.1's mm_account_fault
        // counts failed faults too ("to preserve the behavior of older kernels"), so an OOM or a changed PTE counts.
        vmstat.Count(VmEvent.Pgfault);
        process.CheckSyncRssStat();
        int slot = Process.SwapSlot(pte);
        int pfn;
        bool major = false;
        processes.Current = process;
        try
        {
            pfn = readahead.LookupSwapCache(slot);
            if (pfn < 0)
            {
                pfn = readahead.SwapinReadahead(slot);
                if (pfn < 0) return false;
                vmstat.Count(VmEvent.Pgmajfault);
                major = true;
            }
        }
        finally { processes.Current = null; }
        // The read has the page locked: lock_page_or_retry waits for it and the fault is retried (FAULT_FLAG_TRIED), a
        // second handle_mm_fault that finds the page in the swap cache: it counts PGFAULT again, as it does at each call
        // (v3.16; 6.1.y's handle_mm_fault too, read in unifreq/linux-6.1.y: the 6.1.78 Android tree's mm_account_fault,
        // which skips VM_FAULT_RETRY, is 6.5's, backported), and checks the RSS counters again. Nothing that runs
        // meanwhile (timers: kswapd, writeback, the balloon's NORETRY work) can OOM-kill the task, so the retry the x86
        // handler skips for a fatal signal always happens here.
        if (major && clock.WaitForRead("do_swap_page: wait for the page's read (lock_page_or_retry)", workingset: pages.Test(pfn, PG.Workingset)))
        {
            vmstat.Count(VmEvent.Pgfault);
            process.CheckSyncRssStat();
        }
        process.AccountFault(major);
        if (process.MemDie || process.Exited || process.Pte(index) != pte) // pte_same failed: out_nomap
        {
            lru.PutPage(pfn);
            return false;
        }
        if (!pages.PageAnon(pfn))
        {
            pages.Mapping[pfn] = process.AnonVma;
            pages.Index[pfn] = index;
        }
        pages.MapCount[pfn] = 0;
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrAnonPages, 1);
        process.SetPte(index, pfn);
        process.AddRssFast(anon: 1, swapEnts: -1); // inc_mm_counter_fast, dec_mm_counter_fast
        swapCache.Area.SwapFree(slot);
        rmap.MarkYoung(pfn);
        if (swapCache.Area.VmSwapFull) swapCache.TryToFreeSwap(pfn);
        return true;
    }

    /// <summary>The pages to free or touch, in the order of <paramref name="candidates"/> (ascending: a PFN scan, or indexes).</summary>
    private static List<int> Choose(ReadOnlySpan<int> candidates, double fraction, string pattern, long seed) =>
        pattern == "interleave" ? Interleave(candidates, fraction) : RandomPick(candidates, fraction, seed);

    private static List<int> Interleave(ReadOnlySpan<int> candidates, double fraction)
    {
        var chosen = new List<int>((int)(candidates.Length * fraction) + 1);
        double acc = 0;
        foreach (int pfn in candidates)
        {
            acc += fraction;
            if (acc >= 1.0 - 1e-9)
            {
                chosen.Add(pfn);
                acc -= 1.0;
            }
        }
        return chosen;
    }

    /// <summary>
    /// A random <paramref name="fraction"/> of the candidates (the first k places of a partial Fisher–Yates shuffle over
    /// their positions, with <paramref name="seed"/>), kept in the candidates' order: marked, then read off in one pass
    /// (as sorting the k picks would give, for ascending candidates, at O(n) rather than O(k log k)).
    /// </summary>
    private static List<int> RandomPick(ReadOnlySpan<int> candidates, double fraction, long seed)
    {
        int n = candidates.Length, k = (int)Math.Round(n * fraction);
        var position = new int[n];
        for (int i = 0; i < n; i++) position[i] = i;
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var picked = new bool[n];
        for (int i = 0; i < k; i++)
        {
            int j = i + random.Next(n - i);
            (position[i], position[j]) = (position[j], position[i]);
            picked[position[i]] = true;
        }
        var chosen = new List<int>(k);
        for (int i = 0; i < n; i++)
            if (picked[i]) chosen.Add(candidates[i]);
        return chosen;
    }
}
