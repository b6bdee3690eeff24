using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// The OOM killer of v3.16 mm/oom_kill.c: <c>out_of_memory</c> → the OOM notifier chain (<see cref="OomNotifyList"/>)
/// → <c>select_bad_process</c> (the process with the
/// highest <c>oom_badness</c>: resident pages + page-table pages + swap entries, adjusted by oom_score_adj; none
/// while a previous victim is still dying) → <c>oom_kill_process</c> (no child processes here). The victim's
/// teardown (exit_mmap) runs at once as its own path; the killer then sleeps one jiffy. The kill is printed to the
/// kernel log and counted as <c>oom_kill</c> (a v4.13 counter, kept in every design for comparison).
/// docs/kernel/reclaim-v3.16.md §5.
/// </summary>
internal sealed class OomKiller(Node node, ProcessTable processes, Munmap munmap, SwapArea swap, KernelLog log, VmStat vmstat,
    Scheduler scheduler, SimClock clock, OomNotifyList notifyList)
{
    /// <summary>out_of_memory: true if a process was killed or a victim is already dying (the allocator retries).</summary>
    public bool OutOfMemory(Gfp gfp, int order)
    {
        using var _ = scheduler.Current.Path.Enter("out_of_memory");
        // v3.16 (6.1 adds !is_sysrq_oom; no sysrq here): a notifier that freed pages ("got some memory back in the
        // last second") ends it without a kill, and the allocator retries.
        if (notifyList.CallChain() > 0) return true;
        if (processes.Current is { MemDie: true }) return true;
        long totalpages = node.Zones.Sum(z => z.ManagedPages) + swap.TotalSwapPages;
        Process? chosen = null;
        long chosenPoints = 0;
        foreach (var p in processes.All)
        {
            if (p.Exited) continue;
            if (p.MemDie) return true; // a previous victim is still exiting: no second one
            long points = OomBadness(p, totalpages);
            if (points == 0 || points <= chosenPoints) continue;
            (chosen, chosenPoints) = (p, points);
        }
        string comm = processes.Current?.Comm ?? "kworker";
        log.Printk($"{comm} invoked oom-killer: gfp_mask=0x{(uint)gfp:x}, order={order}, oom_score_adj={processes.Current?.OomScoreAdj ?? 0}");
        if (chosen is null)
        {
            log.Printk("Kernel panic - not syncing: Out of memory and no killable processes...");
            return false;
        }
        long score = chosenPoints * 1000 / totalpages;
        log.Printk($"Out of memory: Kill process {chosen.Pid} ({chosen.Comm}) score {score} or sacrifice child");
        log.Printk($"Killed process {chosen.Pid} ({chosen.Comm}) total-vm:{chosen.TotalVm * 4}kB, anon-rss:{chosen.AnonRss * 4}kB, file-rss:0kB");
        chosen.MemDie = true;
        vmstat.Count(VmEvent.OomKill);
        var victim = chosen;
        scheduler.RunWoken(new SimTask(VictimTaskId + victim.Pid, 0, $"{victim.Comm}: exit_mmap", () => munmap.ExitMmap(victim)));
        log.Notable($"oom_kill pid {victim.Pid}");
        clock.ScheduleTimeout(1, "out_of_memory: schedule_timeout_killable");
        return true;
    }

    /// <summary>The task ids of dying victims' exit paths.</summary>
    private const int VictimTaskId = 1 << 21;

    /// <summary>
    /// oom_badness (v3.16): rss + nr_ptes + swap entries, plus oom_score_adj × totalpages/1000; at least 1 for a
    /// killable process, 0 for one with oom_score_adj −1000.
    /// </summary>
    public static long OomBadness(Process p, long totalpages)
    {
        if (p.OomScoreAdj == -1000 || p.Exited) return 0;
        long points = p.AnonRss + p.NrPtes + p.SwapEnts;
        points += p.OomScoreAdj * (totalpages / 1000);
        return points > 0 ? points : 1;
    }
}
