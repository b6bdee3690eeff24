using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// <c>out_of_memory</c> of mm/oom_kill.c as the versions share it: the OOM notifier chain (<see cref="OomNotifyList"/>;
/// pages it freed end the call without a kill), a dying current task gets through, <c>select_bad_process</c> over the
/// processes (none while a previous victim is still dying), <c>oom_kill_process</c> (no child processes or shared mms
/// here): the kill is printed, counted as <c>oom_kill</c> (a v4.13 counter, kept in every design for comparison), and
/// the victim's teardown (exit_mmap) runs at once as a path of its own. The badness, the choice among equals, the
/// messages and what follows the kill are each version's.
/// </summary>
internal abstract partial class OomKill(Node node, ProcessTable processes, Munmap munmap, SwapArea swap, KernelLog log, VmStat vmstat,
    Scheduler scheduler, OomNotifyList notifyList)
{
    /// <summary>The task ids of dying victims' exit paths.</summary>
    private const int VictimTaskId = 1 << 21;

    protected KernelLog Log => log;

    /// <summary>The process whose request the running path serves (<c>current</c>), or null.</summary>
    protected Process? Current => processes.Current;

    /// <summary>out_of_memory: true if a process was killed or a victim is already dying (the allocator retries).</summary>
    [Preemptible]
    public bool OutOfMemory(Gfp gfp, int order)
    {
        using var _ = scheduler.Current.Path.Enter("out_of_memory");
        if (notifyList.CallChain() > 0) return true;
        if (processes.Current is { MemDie: true }) return true;
        long totalpages = node.Zones.Sum(z => z.ManagedPages) + swap.TotalSwapPages;
        Process? chosen = null;
        long chosenPoints = long.MinValue;
        foreach (var p in processes.All)
        {
            if (p.Exited) continue;
            if (p.MemDie) return true; // a previous victim is still exiting: no second one
            long points = Badness(p, totalpages);
            if (!Preferred(points, chosenPoints)) continue;
            (chosen, chosenPoints) = (p, points);
        }
        // dump_header: unlimited before the panic of no victim; in oom_kill_process only if __ratelimit(&oom_rs)
        // (DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST) allows it.
        bool header = chosen is null || log.Ratelimit("oom_kill_process");
        var current = processes.Current;
        if (header)
        {
            string comm = current?.Comm ?? scheduler.Current.Name;
            log.Printk($"{comm} invoked oom-killer: gfp_mask={FormatGfp(gfp)}, order={order}, oom_score_adj={current?.OomScoreAdj ?? 0}");
            PrintHeaderTail(comm);
        }
        if (chosen is null)
        {
            PrintNoVictim();
            return false;
        }
        PrintKill(chosen, chosenPoints, totalpages, header);
        chosen.MemDie = true;
        vmstat.Count(VmEvent.OomKill);
        var victim = chosen;
        scheduler.RunWoken(new SimTask(VictimTaskId + victim.Pid, 0, $"{victim.Comm}: exit_mmap", () => munmap.ExitMmap(victim)));
        log.Notable($"oom_kill pid {victim.Pid}");
        AfterKill();
        return true;
    }

    /// <summary>How dump_header prints the request's gfp mask.</summary>
    protected abstract string FormatGfp(Gfp gfp);

    /// <summary>oom_badness of the version.</summary>
    protected abstract long Badness(Process p, long totalpages);

    /// <summary>Whether <paramref name="points"/> displace the process chosen so far (select_bad_process / oom_evaluate_task).</summary>
    protected abstract bool Preferred(long points, long chosenPoints);

    /// <summary>What dump_header prints after its "invoked oom-killer" line (of the task <paramref name="comm"/>).</summary>
    protected abstract void PrintHeaderTail(string comm);

    /// <summary>The kernel log lines of a kill (after the "invoked oom-killer" line, if <paramref name="header"/> printed it).</summary>
    protected abstract void PrintKill(Process victim, long points, long totalpages, bool header);

    /// <summary>The kernel log lines when nobody can be killed (the kernel panics).</summary>
    protected abstract void PrintNoVictim();

    /// <summary>What out_of_memory does after a kill.</summary>
    [Preemptible]
    protected abstract void AfterKill();
}
