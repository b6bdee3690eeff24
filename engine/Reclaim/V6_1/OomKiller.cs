using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// The OOM killer of 6.1 mm/oom_kill.c (<see cref="OomKill"/>): <c>oom_badness</c> is rss + swap entries + page-table
/// pages plus oom_score_adj × totalpages/1000, with no floor (an oom_score_adj of −1000 makes a process unkillable,
/// LONG_MIN); <c>oom_evaluate_task</c> takes a process with at least the points chosen so far, so of equals the last
/// one wins; dump_header's summary line and <c>__oom_kill_process</c>'s "Killed process" line; no sleep after the kill.
/// Not modelled: the task dump (dump_tasks), show_mem, the OOM reaper (a victim here exits at once, before the reaper's
/// OOM_REAPER_DELAY of 2 s would come).
/// </summary>
internal sealed class OomKiller(Node node, ProcessTable processes, Munmap munmap, SwapArea swap, KernelLog log, VmStat vmstat,
    Scheduler scheduler, OomNotifyList notifyList)
    : OomKill(node, processes, munmap, swap, log, vmstat, scheduler, notifyList)
{
    /// <summary>oom_badness (6.1): rss + swap entries + mm_pgtables_bytes / PAGE_SIZE, plus oom_score_adj × totalpages/1000.</summary>
    public static long OomBadness(Process p, long totalpages)
    {
        if (p.OomScoreAdj == -1000 || p.Exited) return long.MinValue;
        return p.AnonRss + p.SwapEnts + p.PgtablesPages + p.OomScoreAdj * (totalpages / 1000);
    }

    /// <summary>dump_header (6.1): "gfp_mask=%#x(%pGg)".</summary>
    protected override string FormatGfp(PageAlloc.Gfp gfp) => PageAlloc.V6_1.GfpFlags.Format(gfp);

    protected override long Badness(Process p, long totalpages) => OomBadness(p, totalpages);

    /// <summary>oom_evaluate_task (6.1): skip LONG_MIN and fewer points than chosen; equal points displace the earlier choice.</summary>
    protected override bool Preferred(long points, long chosenPoints) => points != long.MinValue && points >= chosenPoints;

    /// <summary>dump_header's dump_oom_summary (ratelimited with the header), then the kill line (always).</summary>
    /// <summary>6.1's dump_header prints no cpuset line: the cpuset and mems_allowed are in the "oom-kill:" summary (dump_oom_summary).</summary>
    protected override void PrintHeaderTail(string comm) { }

    protected override void PrintKill(Process victim, long points, long totalpages, bool header)
    {
        if (header)
            Log.Printk($"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task={victim.Comm},pid={victim.Pid},uid=0");
        Log.Printk($"Out of memory: Killed process {victim.Pid} ({victim.Comm}) total-vm:{victim.TotalVm * 4}kB, anon-rss:{victim.AnonRss * 4}kB, "
            + $"file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{victim.PgtablesPages * 4}kB oom_score_adj:{victim.OomScoreAdj}");
    }

    protected override void PrintNoVictim()
    {
        Log.Printk("Out of memory and no killable processes...");
        Log.Printk("Kernel panic - not syncing: System is deadlocked on memory");
    }

    protected override void AfterKill() { }
}
