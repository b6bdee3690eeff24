using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// The OOM killer of v3.16 mm/oom_kill.c (<see cref="OomKill"/>): <c>oom_badness</c> is resident pages + page-table
/// pages + swap entries, adjusted by oom_score_adj, at least 1 for a killable process; the first process with the most
/// points is chosen; "Kill process ... score ... or sacrifice child"; the killer then sleeps one jiffy
/// (schedule_timeout_killable), unless it killed itself. docs/kernel/reclaim-v3.16.md §5.
/// </summary>
internal sealed partial class OomKiller(Node node, ProcessTable processes, Munmap munmap, SwapArea swap, KernelLog log, VmStat vmstat,
    Scheduler scheduler, SimClock clock, OomNotifyList notifyList)
    : OomKill(node, processes, munmap, swap, log, vmstat, scheduler, notifyList)
{
    /// <summary>
    /// oom_badness (v3.16): rss + nr_ptes + swap entries, less the 3 % root bonus (every process here runs as root:
    /// has_capability_noaudit(CAP_SYS_ADMIN) holds; 6.1 has no bonus any more), plus oom_score_adj × totalpages/1000;
    /// at least 1 for a killable process, 0 for one with oom_score_adj −1000.
    /// </summary>
    public static long OomBadness(Process p, long totalpages)
    {
        if (p.OomScoreAdj == -1000 || p.Exited) return 0;
        long points = p.AnonRss + p.NrPtes + p.SwapEnts;
        points -= points * 3 / 100;
        points += p.OomScoreAdj * (totalpages / 1000);
        return points > 0 ? points : 1;
    }

    /// <summary>dump_header (v3.16): "gfp_mask=0x%x".</summary>
    protected override string FormatGfp(PageAlloc.Gfp gfp) => $"0x{(uint)gfp:x}";

    protected override long Badness(Process p, long totalpages) => OomBadness(p, totalpages);

    /// <summary>select_bad_process (v3.16): 0 points is never chosen; a tie keeps the earlier process.</summary>
    protected override bool Preferred(long points, long chosenPoints) => points > 0 && points > chosenPoints;

    /// <summary>
    /// cpuset_print_task_mems_allowed(current) (v3.16 kernel/cpuset.c, a CONFIG_CPUSETS kernel as distributions build):
    /// the task's cpuset, the root one, and its mems_allowed, the one node. dump_stack, show_mem and dump_tasks follow in
    /// the kernel; not printed here.
    /// </summary>
    protected override void PrintHeaderTail(string comm) => Log.Printk($"{comm} cpuset=/ mems_allowed=0");

    protected override void PrintKill(Process victim, long points, long totalpages, bool header)
    {
        Log.Printk($"Out of memory: Kill process {victim.Pid} ({victim.Comm}) score {points * 1000 / totalpages} or sacrifice child");
        Log.Printk($"Killed process {victim.Pid} ({victim.Comm}) total-vm:{victim.TotalVm * 4}kB, anon-rss:{victim.AnonRss * 4}kB, file-rss:0kB");
    }

    protected override void PrintNoVictim() => Log.Printk("Kernel panic - not syncing: Out of memory and no killable processes...");

    /// <summary>
    /// schedule_timeout_killable(1): one jiffy, unless current has a fatal signal pending (it chose itself: the kill's
    /// SIGKILL, TIF_MEMDIE here), which keeps a TASK_KILLABLE sleeper running (__schedule's signal_pending_state), so it
    /// returns at once.
    /// </summary>
    [Preemptible]
    protected override void AfterKill()
    {
        if (Current is not { MemDie: true }) clock.ScheduleTimeout(1, "out_of_memory: schedule_timeout_killable");
    }
}
