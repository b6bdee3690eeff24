using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>__perform_reclaim (mm/page_alloc.c, the same in v3.16 and 6.1): the direct-reclaim step of the slow path.</summary>
internal static partial class PerformReclaim
{
    /// <summary>cond_resched; try_to_free_pages with PF_MEMALLOC set (memalloc_noreclaim_save); cond_resched. The progress.</summary>
    [Preemptible]
    public static long Run(IReclaim reclaim, Scheduler scheduler, SimClock clock, int order, Gfp gfp)
    {
        var current = scheduler.Current;
        clock.CondResched();
        var saved = current.Flags;
        current.Flags |= PF.MemAlloc;
        long progress = reclaim.TryToFreePages(order, gfp);
        current.Flags = saved;
        clock.CondResched();
        return progress;
    }
}
