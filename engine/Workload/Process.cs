using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// A user process of the workload, at the level reclaim and the OOM killer see it (task_struct and mm_struct,
/// v3.16): one anonymous mapping of <see cref="PteCount"/> pages, its page-table entries and the pages that hold its
/// tables (<see cref="ProcessPageTables"/>), <c>total_vm</c>, and the mm counters <c>MM_ANONPAGES</c> and
/// <c>MM_SWAPENTS</c>. Its one task's own faults count into the task's <c>rss_stat</c> first (SPLIT_RSS_COUNTING, on in
/// both versions' SMP builds: v3.16 and 6.1.78 mm/memory.c), which the mm's counters take in at the task's first fault
/// after <see cref="TaskRssEventsThresh"/> (check_sync_rss_stat), before it unmaps (add_mm_rss_vec) and when it exits:
/// what the OOM killer weighs and prints lags by what the task has not folded in yet. For partial-order reduction
/// every access to its state is recorded (<see cref="StepAccesses"/>): each page-table entry by its index, the
/// counters as reads and additions, the task's counts, the flags, the tables and total_vm as reads and stores.
/// </summary>
internal sealed class Process
{
    /// <summary>A page-table entry that maps nothing (never faulted in, or unmapped).</summary>
    public const int None = int.MinValue;

    private readonly int[] _ptes;
    private readonly ProcessPageTables _tables;
    private readonly Scheduler _scheduler;
    private long _anonRss, _swapEnts, _totalVm;
    // task_struct.rss_stat: the counts its faults made that the mm's counters have not taken in, and its faults since.
    private long _taskAnonRss, _taskSwapEnts;
    private int _rssEvents;
    // task_struct.min_flt and maj_flt: its faults that completed, without and with a read from the disk.
    private long _minFlt, _majFlt;
    private int _oomScoreAdj;
    private bool _memDie, _exited;

    public Process(int pid, string comm, int anonVma, int pages, Scheduler scheduler)
    {
        Pid = pid;
        Comm = comm;
        AnonVma = anonVma;
        _ptes = new int[pages];
        Array.Fill(_ptes, None);
        _tables = new ProcessPageTables(pages);
        _totalVm = pages;
        _scheduler = scheduler;
    }

    public int Pid { get; }
    /// <summary><c>current-&gt;comm</c>.</summary>
    public string Comm { get; }
    /// <summary>The anon_vma handle its pages carry in <c>page-&gt;mapping</c> (with PAGE_MAPPING_ANON).</summary>
    public int AnonVma { get; }

    /// <summary>Virtual pages of its one VMA: page-table entries.</summary>
    public int PteCount => _ptes.Length;

    /// <summary>
    /// The page-table entry of virtual page <paramref name="index"/>: a PFN (&gt;= 0), a swap entry (-1 - slot), or
    /// <see cref="None"/>. Reverse mapping finds an anon page's entry through <c>page-&gt;index</c>.
    /// </summary>
    public int Pte(int index) => Read(index, _ptes[index]);

    public void SetPte(int index, int pte) => Store(index, ref _ptes[index], pte);

    /// <summary>TASK_RSS_EVENTS_THRESH: a task's fault after this many folds its counts into the mm's.</summary>
    public const int TaskRssEventsThresh = 64;

    /// <summary>get_mm_counter(MM_ANONPAGES): resident anonymous pages as the mm counts them (its task's count not
    /// taken in yet; never below 0, as the counter, updated asynchronously, may go).</summary>
    public long AnonRss => Math.Max(0, Read(AnonRssSlot, _anonRss));

    /// <summary>add_mm_counter(MM_ANONPAGES): straight into the mm's counter (another task's change: reclaim's unmap).</summary>
    public void AddAnonRss(long delta) => Add(AnonRssSlot, ref _anonRss, delta);

    /// <summary>get_mm_counter(MM_SWAPENTS): swap entries in its page table as the mm counts them.</summary>
    public long SwapEnts => Math.Max(0, Read(SwapEntsSlot, _swapEnts));

    public void AddSwapEnts(long delta) => Add(SwapEntsSlot, ref _swapEnts, delta);

    /// <summary>add_mm_counter_fast (inc/dec_mm_counter_fast) of MM_ANONPAGES and MM_SWAPENTS by the process's own fault:
    /// into its task's counts.</summary>
    public void AddRssFast(long anon, long swapEnts)
    {
        Record(TaskRssSlot, StepAccesses.Access.Add);
        _taskAnonRss += anon;
        _taskSwapEnts += swapEnts;
    }

    /// <summary>check_sync_rss_stat at the start of the process's own fault (handle_mm_fault): the fault after
    /// <see cref="TaskRssEventsThresh"/> since the last fold folds its task's counts in (sync_mm_rss).</summary>
    public void CheckSyncRssStat()
    {
        Record(TaskRssSlot, StepAccesses.Access.Store);
        if (_rssEvents++ > TaskRssEventsThresh) SyncMmRss();
    }

    /// <summary>sync_mm_rss: the task's counts added to the mm's counters and cleared, with its fault count (before its
    /// own unmap, add_mm_rss_vec; at exit, do_exit).</summary>
    public void SyncMmRss()
    {
        Record(TaskRssSlot, StepAccesses.Access.Store);
        if (_taskAnonRss != 0) Add(AnonRssSlot, ref _anonRss, _taskAnonRss);
        if (_taskSwapEnts != 0) Add(SwapEntsSlot, ref _swapEnts, _taskSwapEnts);
        (_taskAnonRss, _taskSwapEnts, _rssEvents) = (0, 0, 0);
    }

    /// <summary><c>task-&gt;min_flt</c>: its faults that completed without a read from the disk.</summary>
    public long MinFlt => Read(TaskFltSlot, _minFlt);

    /// <summary><c>task-&gt;maj_flt</c>: its faults that read their page from the disk (VM_FAULT_MAJOR).</summary>
    public long MajFlt => Read(TaskFltSlot, _majFlt);

    /// <summary>
    /// The fault handler's per-task count of a fault that did not fail (v3.16 x86 <c>__do_page_fault</c>, counting the
    /// first attempt, before any retry; 6.1 <c>mm_account_fault</c>, counting the completed attempt, major if it was
    /// retried): <paramref name="major"/> → maj_flt, else min_flt. A fault that fails (VM_FAULT_OOM) counts in neither.
    /// </summary>
    public void AccountFault(bool major)
    {
        Record(TaskFltSlot, StepAccesses.Access.Add);
        if (major) _majFlt++;
        else _minFlt++;
    }

    /// <summary><c>signal-&gt;oom_score_adj</c>, [-1000, 1000].</summary>
    public int OomScoreAdj
    {
        get => Read(FlagsSlot, _oomScoreAdj);
        set => Store(FlagsSlot, ref _oomScoreAdj, value);
    }

    /// <summary>TIF_MEMDIE: chosen by the OOM killer, exiting.</summary>
    public bool MemDie
    {
        get => Read(FlagsSlot, _memDie);
        set => Store(FlagsSlot, ref _memDie, value);
    }

    /// <summary>Its mm has been torn down (exit_mmap): nothing left to free.</summary>
    public bool Exited
    {
        get => Read(FlagsSlot, _exited);
        set => Store(FlagsSlot, ref _exited, value);
    }

    /// <summary><c>mm-&gt;nr_ptes</c> (v3.16; 6.1's <c>mm_nr_ptes</c>): the PTE tables its faults have populated and munmap has not freed.</summary>
    public long NrPtes => Read(TablesSlot, _tables.Count(0));

    /// <summary>
    /// Every page-table page under its VMA (6.1's <c>mm_pgtables_bytes</c> / PAGE_SIZE, which counts PTE, PMD and PUD
    /// tables since 4.15). v3.16 counts only <see cref="NrPtes"/>.
    /// </summary>
    public long PgtablesPages => Read(TablesSlot, _tables.Total);

    /// <summary>The highest level whose table virtual page <paramref name="index"/> still needs before a fault can map it, or -1.</summary>
    public int MissingTableLevel(int index) => Read(TablesSlot, _tables.MissingLevel(index));

    /// <summary>The fault's <c>pmd_populate</c> (or the PUD/PGD entry's): page <paramref name="pfn"/> is now the table of <paramref name="index"/>'s range at <paramref name="level"/>.</summary>
    public void PopulateTable(int level, int index, int pfn)
    {
        Record(TablesSlot, StepAccesses.Access.Store);
        _tables.Populate(level, index, pfn);
    }

    /// <summary>
    /// munmap of virtual page <paramref name="index"/> (its PTE already zapped): <c>mm-&gt;total_vm</c> drops by one
    /// (<c>vm_stat_account</c>), and the tables whose range the VMA no longer reaches are taken out
    /// (<c>free_pgtables</c>): their pages by level (<see cref="ProcessPageTables.NoTable"/> where none) are returned.
    /// </summary>
    public (int Pte, int Pmd, int Pud) Unmap(int index)
    {
        Record(TablesSlot, StepAccesses.Access.Store);
        _totalVm--;
        return _tables.Unmap(index);
    }

    /// <summary>exit_mmap's <c>free_pgtables</c>: every table taken out, added to <paramref name="freed"/> (<c>total_vm</c> stays: exit_mmap leaves it).</summary>
    public void FreePgtables(List<(int Level, int Pfn)> freed)
    {
        Record(TablesSlot, StepAccesses.Access.Store);
        _tables.FreeAll(freed);
    }

    /// <summary><c>mm-&gt;total_vm</c> in pages: its VMA less what munmap has taken.</summary>
    public long TotalVm => Read(TablesSlot, _totalVm);

    public static int SwapEntry(int slot) => -1 - slot;
    public static bool IsSwapEntry(int pte) => pte < 0 && pte != None;
    public static int SwapSlot(int pte) => -1 - pte;

    /// <summary>The state a snapshot keeps (not recorded: snapshots are taken between operations).</summary>
    public Saved Save() =>
        new((int[])_ptes.Clone(), _tables.Save(), _anonRss, _swapEnts, (_taskAnonRss, _taskSwapEnts, _rssEvents),
            (_minFlt, _majFlt), _totalVm, _oomScoreAdj, _memDie, _exited);

    public void Restore(Saved saved)
    {
        saved.Ptes.CopyTo(_ptes, 0);
        _tables.Restore(saved.Tables);
        (_anonRss, _swapEnts, _totalVm, _oomScoreAdj, _memDie, _exited) =
            (saved.AnonRss, saved.SwapEnts, saved.TotalVm, saved.OomScoreAdj, saved.MemDie, saved.Exited);
        (_taskAnonRss, _taskSwapEnts, _rssEvents) = saved.TaskRss;
        (_minFlt, _majFlt) = saved.Faults;
    }

    /// <summary>What <see cref="Save"/> keeps of a process, as plain data.</summary>
    public sealed record Saved(int[] Ptes, (int[][] Table, int[][] VmaPages, long[] Count) Tables, long AnonRss, long SwapEnts,
        (long AnonRss, long SwapEnts, int Events) TaskRss, (long Min, long Maj) Faults, long TotalVm, int OomScoreAdj,
        bool MemDie, bool Exited);

    // The mm fields' slots, below the page-table entries' indices (the tables and total_vm: mmap_sem and page_table_lock's),
    // and the task's rss_stat and fault counts.
    private const int AnonRssSlot = -1, SwapEntsSlot = -2, FlagsSlot = -3, TablesSlot = -4, TaskRssSlot = -5, TaskFltSlot = -6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // SimLock.Owner's note
    private void Record(int slot, StepAccesses.Access access)
    {
        if (StepAccesses.Compiled) _scheduler.Accesses?.Process(Pid, slot, access);
    }

    private T Read<T>(int slot, T value)
    {
        Record(slot, StepAccesses.Access.Read);
        return value;
    }

    private void Store<T>(int slot, ref T field, T value)
    {
        Record(slot, StepAccesses.Access.Store);
        field = value;
    }

    private void Add(int slot, ref long field, long delta)
    {
        Record(slot, StepAccesses.Access.Add);
        field += delta;
    }
}
