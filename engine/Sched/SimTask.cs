namespace BalloonScript.Engine.Sched;

/// <summary>A kernel path (compaction, balloon leak, a workload step) bound to one simulated CPU.</summary>
internal sealed class SimTask
{
    public SimTask(int id, int cpu, string name, Action body, Func<ValueTask>? asyncBody = null)
    {
        Id = id;
        Cpu = cpu;
        Name = name;
        Body = body;
        AsyncBody = asyncBody;
    }

    public int Id { get; }
    public int Cpu { get; }
    public string Name { get; }
    public Action Body { get; }
    /// <summary>The body's async twin (made of <see cref="PreemptibleAttribute"/> paths), or null: what a switching run
    /// runs as a continuation.</summary>
    public Func<ValueTask>? AsyncBody { get; }
    public CallPath Path { get; } = new();

    /// <summary>Released when this path may run on (switching runs only).</summary>
    internal Baton Baton { get; } = new();
    private Action<object?>? _parked;
    private object? _parkedState;

    /// <summary>Keep where this path, parked as a continuation, goes on when it is resumed (continuation runs only).</summary>
    internal void Park(Action<object?> continuation, object? state) => (_parked, _parkedState) = (continuation, state);

    /// <summary>Resume the path where it parked; false if it has not started (nothing parked).</summary>
    internal bool Resume()
    {
        if (_parked is not { } resume) return false;
        var state = _parkedState;
        (_parked, _parkedState) = (null, null);
        resume(state);
        return true;
    }
    internal bool Done { get; set; }
    internal bool Started { get; set; }
    /// <summary>While blocked: the condition that makes it runnable again, and the lock it waits for.</summary>
    internal Func<bool>? WaitCondition { get; set; }
    internal object? WaitingOn { get; set; }
    internal Exception? Error { get; set; }
    internal int Priority { get; set; }
    /// <summary><c>current-&gt;flags</c>.</summary>
    internal PF Flags { get; set; }
    /// <summary><c>current-&gt;mm</c>'s process while this path serves one of its faults, else null (a kernel path's).</summary>
    internal Workload.Process? Mm { get; set; }
    /// <summary>Simulated time at which this task was last put on its CPU (start of its timeslice).</summary>
    internal long SliceStartNs { get; set; }
    /// <summary>Counted by PSI (<see cref="IPsi"/>): the path has started and not yet ended.</summary>
    internal bool PsiLive { get; set; }
    /// <summary>PSI's task flags while counted (psi_flags: TSK_IOWAIT, TSK_MEMSTALL, TSK_RUNNING, TSK_MEMSTALL_RUNNING).</summary>
    internal int PsiFlags { get; set; }
    /// <summary>in_memstall: between the outermost psi_memstall_enter and its leave.</summary>
    internal bool InMemstall { get; set; }
    /// <summary>Sleeps under way (a timer's work that waits while the CPU's path sleeps): only the outermost changes PSI's state.</summary>
    internal int PsiSleeps { get; set; }

    internal bool Runnable => !Done && (WaitCondition is null || WaitCondition());

    /// <summary>The task of <paramref name="tasks"/> with id <paramref name="id"/>, or null. Indexed: a strategy looks one
    /// up at every decision, and a foreach over the interface would allocate an enumerator each time.</summary>
    internal static SimTask? WithId(IReadOnlyList<SimTask> tasks, int id)
    {
        for (int i = 0; i < tasks.Count; i++)
            if (tasks[i].Id == id) return tasks[i];
        return null;
    }
}
