namespace BalloonScript.Engine.Sched;

/// <summary>
/// What the running kernel path touches between two preemption points (its step), recorded for partial-order reduction
/// (<see cref="SleepSets"/>) while <see cref="On"/>: pages (any <c>struct page</c> field of a PFN, or its <c>lru</c>
/// links; list heads by their node, as are rmap's per-page state and the host's ledger), simulated locks, shared values
/// (<see cref="SharedArray"/>) and processes' state (page-table entries, mm fields) as reads, additions or stores, and
/// <see cref="Global"/> for what is ordered against every other step (the clock, a kernel thread woken for after the
/// run, a bulk read of a page array, a new process). The rest of the simulation's
/// state is not recorded here: <see cref="SleepSets"/> compares it whole. Nothing calls in while reduction is off
/// (the page arrays and locks hold no recorder then).
/// </summary>
internal sealed class StepAccesses
{
    /// <summary>The AppContext switch that turns recording on for the process (<see cref="Compiled"/>).</summary>
    public const string Switch = "BalloonScript.PartialOrderReduction";

    /// <summary>
    /// Whether this process can record accesses at all: the AppContext switch <see cref="Switch"/> as it stands when the
    /// engine first touches a page (set it before: <see cref="Explore.PartialOrderReduction.Enable"/>, the test
    /// project's runtimeconfig, or <c>bs.enable_partial_order_reduction()</c>). A static readonly the JIT folds: off (the
    /// default), every recording hook on the page arrays, list links and locks is removed from the code the JIT compiles,
    /// so simulations that never ask for reduction pay nothing for it once their paths are compiled again; the
    /// ahead-of-time code a process starts with cannot fold it and keeps a test at each hook.
    /// </summary>
    public static readonly bool Compiled = AppContext.TryGetSwitch(Switch, out bool on) && on;

    private readonly List<long> _reads = [];
    private readonly List<long> _writes = [];
    private readonly List<long> _adds = [];
    private bool _global;

    /// <summary>Recording: set for the switching part of a run.</summary>
    public bool On { get; set; }

    public void Read(int node)
    {
        if (On) _reads.Add(node);
    }

    public void Write(int node)
    {
        if (On) _writes.Add(node);
    }

    /// <summary>Any operation on simulated lock <paramref name="id"/> (taking, releasing, testing, waiting for it): a write of the lock.</summary>
    public void Lock(int id)
    {
        if (On) _writes.Add(LockKey(id));
    }

    /// <summary>What a step does with a recorded value: additions commute with each other, nothing else does.</summary>
    public enum Access { Read, Add, Store }

    /// <summary>An access to shared element <paramref name="id"/> (<see cref="SharedArray"/>).</summary>
    public void Shared(int id, Access access) => Record(SharedKey(id), access);

    /// <summary>
    /// An access to slot <paramref name="slot"/> of process <paramref name="pid"/> (<see cref="Workload.Process"/>): a
    /// page-table entry (its index) or an mm field (a negative slot).
    /// </summary>
    public void Process(int pid, int slot, Access access) => Record(ProcessKey(pid, slot), access);

    private void Record(long key, Access access)
    {
        if (On) (access == Access.Read ? _reads : access == Access.Add ? _adds : _writes).Add(key);
    }

    /// <summary>A step ordered against every other step.</summary>
    public void Global()
    {
        if (On) _global = true;
    }

    /// <summary>The recorded step, and the record cleared for the next one.</summary>
    public StepFootprint Take()
    {
        var step = new StepFootprint(Sorted(_reads), Sorted(_writes), Sorted(_adds), _global);
        Clear();
        return step;
    }

    /// <summary>
    /// Whether the step recorded so far and <paramref name="step"/> are dependent, as far as pages, locks and shared
    /// values go: either is global, one writes what the other reads, writes or adds to, or one adds to a value the other
    /// reads.
    /// </summary>
    public bool Conflicts(StepFootprint step)
    {
        if (_global || step.Global) return true;
        foreach (long w in _writes)
            if (Has(step.Writes, w) || Has(step.Reads, w) || Has(step.Adds, w)) return true;
        foreach (long r in _reads)
            if (Has(step.Writes, r) || Has(step.Adds, r)) return true;
        foreach (long a in _adds)
            if (Has(step.Writes, a) || Has(step.Reads, a)) return true;
        return false;
    }

    private static bool Has(long[] sorted, long key) => Array.BinarySearch(sorted, key) >= 0;

    public void Clear()
    {
        _reads.Clear();
        _writes.Clear();
        _adds.Clear();
        _global = false;
    }

    /// <summary>
    /// Keys: pages and list heads by node (from 0 up), locks from -1 down, shared elements from the bottom of the 32-bit
    /// range up, processes' slots above it all (a process's slots from its pid).
    /// </summary>
    private static long LockKey(int id) => -1 - id;

    private static long SharedKey(int id) => int.MinValue + (long)id;

    private static long ProcessKey(int pid, int slot) => (1L << 62) + ((long)pid << 32) + slot + 4;

    private static long[] Sorted(List<long> keys)
    {
        if (keys.Count == 0) return [];
        var a = keys.ToArray();
        Array.Sort(a);
        int n = 1;
        for (int i = 1; i < a.Length; i++)
            if (a[i] != a[n - 1]) a[n++] = a[i];
        return n == a.Length ? a : a[..n];
    }
}
