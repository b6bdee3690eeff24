using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// What runs in the guest: processes with anonymous memory, page-cache files, kernel slab, and frees that
/// punch holes. Each populate call is one new process / file / slab cache. Pages are allocated one by one
/// as faults and page-cache reads do (order 0, fast path at the low watermark), and set up in the state the
/// kernel leaves them in: anon = <c>_count</c> 1, <c>_mapcount</c> 0, anon_vma mapping, PG_swapbacked, on the
/// active anon LRU; file = <c>_count</c> 1, unmapped, address_space mapping, on the inactive file LRU;
/// slab = PG_slab, unmovable, on no list. A fatal signal (Ctrl-C) stops a populate or a free early.
/// </summary>
internal sealed class Workload(PageTable pages, Node node, IBuddyAllocator buddy, MappingTable mappings, Lru lru, FatalSignal signal)
{
    public static readonly string[] Patterns = ["interleave", "random"];

    private long _nextToken = 1;

    /// <summary>Content tokens handed out and not yet freed; the data check compares against this.</summary>
    public long LiveTokens { get; private set; }

    /// <summary>Highest token handed out so far.</summary>
    public long MaxToken => _nextToken - 1;

    /// <summary>Order-0 pages a populate call can take without failing (the fast path's low watermark).</summary>
    public long AllocatablePages() => buddy.AllocatablePages(Zone.WmarkLow);

    public long Anon(double mib)
    {
        long n = PagesFor(mib);
        int anonVma = mappings.NewAnonVma();
        return Populate(n, Gfp.HighUserMovable, (pfn, i) =>
        {
            pages.Mapping[pfn] = anonVma;
            pages.Index[pfn] = (int)i;
            pages.MapCount[pfn] = 0;
            pages.Flags[pfn] = (uint)(PG.SwapBacked | PG.Uptodate);
            pages.Kind[pfn] = (byte)PageKind.Anon;
            AddToLru(pfn, active: true);
            node.ZoneOf(pfn).Stat[(int)ZoneStat.NrAnonPages]++;
        });
    }

    public long File(double mib)
    {
        long n = PagesFor(mib);
        int mapping = mappings.NewAddressSpace();
        return Populate(n, Gfp.HighUserMovable, (pfn, i) =>
        {
            pages.Mapping[pfn] = mapping;
            pages.Index[pfn] = (int)i;
            pages.Flags[pfn] = (uint)PG.Uptodate;
            pages.Kind[pfn] = (byte)PageKind.File;
            AddToLru(pfn, active: false);
            node.ZoneOf(pfn).Stat[(int)ZoneStat.NrFilePages]++;
        });
    }

    public long Slab(double mib)
    {
        long n = PagesFor(mib);
        return Populate(n, Gfp.Kernel, (pfn, _) =>
        {
            pages.Flags[pfn] = (uint)PG.Slab;
            pages.Kind[pfn] = (byte)PageKind.Slab;
            node.ZoneOf(pfn).Stat[(int)ZoneStat.NrSlabUnreclaimable]++;
        });
    }

    /// <summary>
    /// Free <paramref name="fraction"/> of the workload's pages (anon, file, slab) in PFN order:
    /// <c>interleave</c> spreads the frees evenly (0.5 = every other page), <c>random</c> picks them with
    /// <paramref name="seed"/>. Returns the pages freed.
    /// </summary>
    public long Free(double fraction, string pattern, long seed)
    {
        Check.InRange(fraction, "fraction", 0.0, 1.0);
        Check.OneOf(pattern, "pattern", Patterns);
        var candidates = new List<int>();
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
        {
            var k = (PageKind)pages.Kind[pfn];
            if (k is PageKind.Anon or PageKind.File or PageKind.Slab && pages.Count[pfn] > 0) candidates.Add(pfn);
        }
        var chosen = pattern == "interleave" ? Interleave(candidates, fraction) : RandomPick(candidates, fraction, seed);
        int freed = 0;
        for (; freed < chosen.Count && !signal.Pending; freed++) FreeWorkloadPage(chosen[freed]);
        return freed;
    }

    /// <summary>A fresh content token for a page that now holds data.</summary>
    public long NewToken()
    {
        LiveTokens++;
        return _nextToken++;
    }

    private long PagesFor(double mib)
    {
        long max = AllocatablePages();
        Check.InRange(mib, "mib", 0.0, max / 256.0);
        return (long)Math.Round(mib * 256);
    }

    private long Populate(long n, Gfp gfp, Action<int, long> setUp)
    {
        for (long i = 0; i < n; i++)
        {
            if (signal.Pending) return i;
            int pfn = buddy.GetPageFromFreelist(0, gfp, AllocFlags.WmarkLow);
            if (pfn < 0) return i;
            pages.Content[pfn] = NewToken();
            setUp(pfn, i);
        }
        return n;
    }

    /// <summary>lru_cache_add onto the active or inactive list of the page's type.</summary>
    private void AddToLru(int pfn, bool active)
    {
        if (active) pages.Set(pfn, PG.Active);
        lru.LruCacheAdd(pfn);
    }

    /// <summary>Unmap, take off the LRU, drop the last reference (munmap / truncate / kmem_cache_free).</summary>
    private void FreeWorkloadPage(int pfn)
    {
        var zone = node.ZoneOf(pfn);
        var kind = (PageKind)pages.Kind[pfn];
        if (pages.PageLru(pfn))
        {
            zone.LruLock.Lock();
            lru.DelPageFromLruList(zone, pfn, lru.LruListOf(pfn));
            pages.Clear(pfn, PG.Lru | PG.Active);
            zone.LruLock.Unlock();
        }
        switch (kind)
        {
            case PageKind.Anon:
                zone.Stat[(int)ZoneStat.NrAnonPages]--;
                pages.MapCount[pfn] = -1;
                break;
            case PageKind.File:
                zone.Stat[(int)ZoneStat.NrFilePages]--;
                break;
            case PageKind.Slab:
                zone.Stat[(int)ZoneStat.NrSlabUnreclaimable]--;
                pages.Clear(pfn, PG.Slab);
                break;
        }
        pages.Mapping[pfn] = 0;
        pages.Clear(pfn, PG.SwapBacked | PG.Uptodate);
        if (pages.Content[pfn] != 0) LiveTokens--;
        buddy.PutPage(pfn);
    }

    private static List<int> Interleave(List<int> candidates, double fraction)
    {
        var chosen = new List<int>();
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

    private static List<int> RandomPick(List<int> candidates, double fraction, long seed)
    {
        int k = (int)Math.Round(candidates.Count * fraction);
        var arr = candidates.ToArray();
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        for (int i = 0; i < k; i++)
        {
            int j = i + random.Next(arr.Length - i);
            (arr[i], arr[j]) = (arr[j], arr[i]);
        }
        var chosen = arr.AsSpan(0, k).ToArray();
        Array.Sort(chosen);
        return [.. chosen];
    }
}
