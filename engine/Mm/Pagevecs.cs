using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The per-cpu <c>lru_add_pvec</c> of v3.16 mm/swap.c (registered with <see cref="SimulationOptions.Pagevecs"/>):
/// <c>lru_cache_add</c> parks a page there with an extra reference, draining the PAGEVEC_SIZE (14) pages already
/// there first when it is full ("drain before add", as until v4.7); a parked page is not PageLRU, so neither reclaim
/// nor compaction can isolate it. lru_add_drain drains the running CPU's, lru_add_drain_all every CPU's.
/// </summary>
internal sealed class Pagevecs : ISnapshotState
{
    /// <summary>PAGEVEC_SIZE.</summary>
    public const int PagevecSize = 14;

    private readonly Scheduler _scheduler;
    private readonly List<int>[] _lruAdd;

    public Pagevecs(Scheduler scheduler)
    {
        _scheduler = scheduler;
        _lruAdd = Enumerable.Range(0, scheduler.Cpus).Select(_ => new List<int>(PagevecSize)).ToArray();
    }

    public int Cpus => _lruAdd.Length;

    public object Save() => _lruAdd.Select(p => p.ToArray()).ToArray();

    public void Restore(object saved)
    {
        var pvecs = (int[][])saved;
        for (int cpu = 0; cpu < _lruAdd.Length; cpu++)
        {
            _lruAdd[cpu].Clear();
            _lruAdd[cpu].AddRange(pvecs[cpu]);
        }
    }

    /// <summary>The pages parked on <paramref name="cpu"/>'s lru_add_pvec, oldest first.</summary>
    public IReadOnlyList<int> LruAdd(int cpu) => _lruAdd[cpu];

    /// <summary>
    /// __lru_cache_add: with the page's extra reference already taken, drain this CPU's pagevec through
    /// <paramref name="drain"/> if it is full, then park the page.
    /// </summary>
    public void Add(int pfn, Action<List<int>> drain)
    {
        var pvec = _lruAdd[_scheduler.Current.Cpu];
        if (pvec.Count == PagevecSize) drain(pvec);
        pvec.Add(pfn);
    }

    /// <summary>The pagevec of <paramref name="cpu"/>, to drain.</summary>
    public List<int> Of(int cpu) => _lruAdd[cpu];
}
