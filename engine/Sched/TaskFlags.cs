namespace BalloonScript.Engine.Sched;

/// <summary>The <c>current-&gt;flags</c> bits the simulated kernel paths test (v3.16 include/linux/sched.h values).</summary>
[Flags]
internal enum PF : uint
{
    None = 0,
    /// <summary>PF_MEMALLOC: the task is allocating for reclaim/compaction; it must not sleep on a page lock.</summary>
    MemAlloc = 0x00000800,
    /// <summary>PF_KSWAPD: the task is kswapd.</summary>
    Kswapd = 0x00040000,
    /// <summary>PF_KTHREAD: a kernel thread (kswapd, the balloon thread).</summary>
    Kthread = 0x00200000,
    /// <summary>PF_SWAPWRITE: allowed to write to swap; migrate_pages sets it for its duration.</summary>
    SwapWrite = 0x00800000,
}

/// <summary>Tests on <see cref="PF"/> that several kernel paths share.</summary>
internal static class TaskFlagTests
{
    /// <summary>
    /// reclaim_throttle (6.1): "Do not throttle IO workers, kthreads other than kswapd or workqueues" — such a task only
    /// reschedules (kcompactd, the balloon worker).
    /// </summary>
    public static bool ReclaimThrottleExempt(this PF flags) => (flags & PF.Kswapd) == 0 && (flags & PF.Kthread) != 0;
}
