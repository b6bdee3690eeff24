using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Workload;

/// <summary>The workload's processes (for_each_process), found from a page through its anon_vma.</summary>
internal sealed class ProcessTable(Scheduler scheduler) : ISnapshotState
{
    /// <summary>The first pid given to a workload process (below are init and the kernel threads).</summary>
    public const int FirstPid = 1000;

    private readonly List<Process> _all = [];
    private readonly Dictionary<int, Process> _byAnonVma = [];
    /// <summary>The last process <see cref="OwnerOf"/> found (migration and reclaim ask for one process's pages in runs).</summary>
    [NotState("a cache of _byAnonVma, emptied when it is rebuilt")]
    private Process? _lastOwner;

    public IReadOnlyList<Process> All => _all;

    /// <summary>
    /// The process whose fault the running kernel path serves (<c>current</c> for the allocator and the OOM killer), or
    /// null: the running task's own (<see cref="SimTask.Mm"/>), so a path on another CPU never sees it. Set only while a
    /// fault is served; null between operations, when snapshots are taken.
    /// </summary>
    public Process? Current
    {
        get => scheduler.Current.Mm;
        set => scheduler.Current.Mm = value;
    }

    /// <summary>Every process as plain data (its page table copied).</summary>
    public object Save() => _all.Select(p => new ProcessState(p.Pid, p.Comm, p.AnonVma, p.Save())).ToArray();

    public void Restore(object saved)
    {
        _all.Clear();
        _byAnonVma.Clear();
        _lastOwner = null;
        foreach (var s in (ProcessState[])saved)
        {
            var p = new Process(s.Pid, s.Comm, s.AnonVma, s.State.Ptes.Length, scheduler);
            p.Restore(s.State);
            _all.Add(p);
            _byAnonVma.Add(s.AnonVma, p);
        }
    }

    private sealed record ProcessState(int Pid, string Comm, int AnonVma, Process.Saved State);

    /// <summary>A new process (for partial-order reduction, a step ordered against every other: the table changes).</summary>
    public Process Spawn(string comm, int anonVma, int pages)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        var p = new Process(FirstPid + _all.Count, comm, anonVma, pages, scheduler);
        _all.Add(p);
        _byAnonVma.Add(anonVma, p);
        return p;
    }

    /// <summary>Pages holding the processes' page tables (every level: unmovable kernel memory nobody can reclaim).</summary>
    public long PgtablesPages() => _all.Sum(p => p.PgtablesPages);

    /// <summary>The process whose anonymous pages carry <paramref name="anonVma"/> (with or without the ANON bit), or null.</summary>
    public Process? OwnerOf(int anonVma)
    {
        int key = anonVma | Mm.MappingTable.PageMappingAnon;
        if (_lastOwner is { } last && last.AnonVma == key) return last;
        return _byAnonVma.TryGetValue(key, out var p) ? _lastOwner = p : null;
    }
}
