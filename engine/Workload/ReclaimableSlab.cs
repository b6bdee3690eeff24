using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// A shrinkable slab cache standing for the dentry and inode caches: slab pages allocated with __GFP_RECLAIMABLE
/// (NR_SLAB_RECLAIMABLE), one object per page, and its shrinker — <c>count_objects</c> is the number of pages,
/// <c>scan_objects(n)</c> frees the n oldest (an LRU of unused objects, as list_lru keeps them).
/// </summary>
internal sealed partial class ReclaimableSlab(PageTable pages, Node node, IBuddyAllocator buddy, PageContents contents) : ISnapshotState, Reclaim.IShrinker
{
    private readonly Queue<int> _lru = new();
    private readonly bool[] _member = new bool[pages.NrPages];

    /// <summary>count_objects: objects the shrinker could free.</summary>
    public long Count { get; private set; }

    public object Save() => (_lru.ToArray(), _member.Clone(), Count);

    public void Restore(object saved)
    {
        var (lru, member, count) = ((int[], object, long))saved;
        _lru.Clear();
        foreach (int pfn in lru) _lru.Enqueue(pfn);
        ((bool[])member).CopyTo(_member, 0);
        Count = count;
    }

    /// <summary>A new reclaimable slab page (already set up as PG_slab, counted in NR_SLAB_RECLAIMABLE).</summary>
    public void Add(int pfn)
    {
        _member[pfn] = true;
        _lru.Enqueue(pfn);
        Count++;
    }

    public bool Contains(int pfn) => _member[pfn];

    /// <summary>The page was freed by its owner (kmem_cache_free of its last object).</summary>
    public void Remove(int pfn)
    {
        if (!_member[pfn]) return;
        _member[pfn] = false;
        Count--;
    }

    public long CountObjects() => Count;

    /// <summary>6.1's super_cache_scan: SHRINK_STOP in a reclaim without __GFP_FS (a readahead's, under memalloc_nofs_save), else <see cref="Scan"/>.</summary>
    [Preemptible]
    public long ScanObjects(long nrToScan, Gfp gfpMask) => (gfpMask & Gfp.Fs) == 0 ? Reclaim.IShrinker.ShrinkStop : Scan(nrToScan);

    /// <summary>scan_objects: free up to <paramref name="n"/> of the oldest objects (their pages); returns the pages freed.</summary>
    [Preemptible]
    public long Scan(long n)
    {
        long freed = 0;
        while (freed < n && _lru.TryDequeue(out int pfn))
        {
            if (!_member[pfn]) continue;
            Remove(pfn);
            node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrSlabReclaimable, -1);
            pages.Clear(pfn, PG.Slab);
            contents.Retire(pfn); // the object is gone: a dentry or inode is rebuilt from disk when needed again
            buddy.PutPage(pfn);
            freed++;
        }
        return freed;
    }
}
