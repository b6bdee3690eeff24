using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The per-cpu <c>lru_add_pvec</c> of v3.16 mm/swap.c, 6.1's <c>cpu_fbatches.lru_add</c> (registered with
/// <see cref="SimulationOptions.Pagevecs"/>): <c>lru_cache_add</c> parks a page there with an extra reference; the batch
/// holds <see cref="ILruLists.LruAddBatchSize"/> pages and is drained when full, before the next page is added (v3.16)
/// or as soon as the page that fills it is (6.1; <see cref="ILruLists.DrainFullBatchAfterAdd"/>). A parked page is not
/// PageLRU, so neither reclaim nor compaction can isolate it. Next to it each CPU has the activate batch (v3.16
/// <c>activate_page_pvecs</c>, 6.1 <c>cpu_fbatches.activate</c>): mark_page_accessed queues an LRU page there with a
/// reference, and the batch is moved to the active lists once the page that fills it is added (both versions). A queued
/// page stays on its LRU list, inactive, with that reference held. lru_add_drain drains the running CPU's batches,
/// lru_add_drain_all every CPU's.
/// <para>
/// A CPU's pagevec is only ever touched by that CPU: <c>__lru_cache_add</c> and <c>lru_add_drain</c> run with preemption
/// off (<c>get_cpu_var</c>), and <c>lru_add_drain_all</c> queues the drain as work on each CPU and waits for it
/// (<c>flush_work</c>). Here a path drains another CPU's pagevec itself, but only while that CPU is outside its own
/// section, and that CPU, should it come back meanwhile, waits as it would for its kworker (<see cref="CpuSections"/>).
/// </para>
/// </summary>
internal sealed partial class Pagevecs : ISnapshotState
{
    private readonly Scheduler _scheduler;
    private readonly int _size;
    private readonly bool _drainAfterAdd;
    private readonly List<int>[] _lruAdd;
    private readonly List<int>[] _activate;

    [NotState("held only inside a path's section on a pagevec, within a run")]
    private readonly CpuSections _sections;

    public Pagevecs(Scheduler scheduler, ILruLists lruLists)
    {
        _scheduler = scheduler;
        _size = lruLists.LruAddBatchSize;
        _drainAfterAdd = lruLists.DrainFullBatchAfterAdd;
        _lruAdd = Enumerable.Range(0, scheduler.Cpus).Select(_ => new List<int>(_size)).ToArray();
        _activate = Enumerable.Range(0, scheduler.Cpus).Select(_ => new List<int>(_size)).ToArray();
        _sections = new CpuSections(scheduler, Enumerable.Range(0, scheduler.Cpus).Select(cpu => $"lru_add_pvec of cpu{cpu}").ToArray());
    }

    public int Cpus => _lruAdd.Length;

    public object Save() => (_lruAdd.Select(p => p.ToArray()).ToArray(), _activate.Select(p => p.ToArray()).ToArray());

    public void Restore(object saved)
    {
        var (lruAdd, activate) = ((int[][], int[][]))saved;
        for (int cpu = 0; cpu < _lruAdd.Length; cpu++)
        {
            _lruAdd[cpu].Clear();
            _lruAdd[cpu].AddRange(lruAdd[cpu]);
            _activate[cpu].Clear();
            _activate[cpu].AddRange(activate[cpu]);
        }
    }

    /// <summary>The pages parked on <paramref name="cpu"/>'s lru_add_pvec, oldest first.</summary>
    public IReadOnlyList<int> LruAdd(int cpu) => _lruAdd[cpu];

    /// <summary>The pages queued in <paramref name="cpu"/>'s activate batch, oldest first.</summary>
    public IReadOnlyList<int> Activate(int cpu) => _activate[cpu];

    /// <summary>__lru_cache_activate_page's search (get_cpu_var): whether the running CPU's own pagevec holds <paramref name="pfn"/>.</summary>
    [Preemptible]
    public bool LocalHolds(int pfn)
    {
        int cpu = _scheduler.Current.Cpu;
        _sections.Enter(cpu, cpu);
        bool found = _lruAdd[cpu].Contains(pfn);
        _sections.Exit(cpu, cpu);
        return found;
    }

    /// <summary>
    /// __lru_cache_add (v3.16), folio_add_lru (6.1): with the page's extra reference already taken, park the page in this
    /// CPU's batch, draining the batch through <paramref name="drain"/> when it is full: before the page goes in, or
    /// once it has.
    /// </summary>
    [Preemptible]
    public void Add(int pfn, [Preemptible] Action<List<int>> drain)
    {
        int cpu = _scheduler.Current.Cpu;
        var pvec = _lruAdd[cpu];
        _sections.Enter(cpu, cpu);
        if (!_drainAfterAdd && pvec.Count == _size) drain(pvec);
        pvec.Add(pfn);
        if (_drainAfterAdd && pvec.Count == _size) drain(pvec);
        _sections.Exit(cpu, cpu);
    }

    /// <summary>
    /// activate_page (v3.16), folio_activate (6.1): with the page's extra reference already taken, queue it in this CPU's
    /// activate batch, moving the batch through <paramref name="move"/> once the page fills it.
    /// </summary>
    [Preemptible]
    public void AddToActivate(int pfn, [Preemptible] Action<List<int>> move)
    {
        int cpu = _scheduler.Current.Cpu;
        var batch = _activate[cpu];
        _sections.Enter(cpu, cpu);
        batch.Add(pfn);
        if (batch.Count == _size) move(batch);
        _sections.Exit(cpu, cpu);
    }

    /// <summary>
    /// lru_add_drain_cpu: drain <paramref name="cpu"/>'s lru_add batch through <paramref name="drain"/>, then its activate
    /// batch through <paramref name="activate"/> (activate_page_drain last, as both versions do it) — the running CPU's,
    /// or, for lru_add_drain_all, another's as the work queued on it would.
    /// </summary>
    [Preemptible]
    public void Drain(int cpu, [Preemptible] Action<List<int>> drain, [Preemptible] Action<List<int>> activate)
    {
        _sections.Enter(cpu, cpu);
        drain(_lruAdd[cpu]);
        activate(_activate[cpu]);
        _sections.Exit(cpu, cpu);
    }
}
