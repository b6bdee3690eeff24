using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>The OOM killer of v3.16 (docs/kernel/reclaim-v3.16.md §5): who it chooses, and what the kill frees.</summary>
public class OomKillerTests
{
    private static PressureRig ThreeProcesses()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadAnon(8);   // pid 1000
        rig.Sim.WorkloadAnon(32);  // pid 1001: the biggest
        rig.Sim.WorkloadAnon(4);   // pid 1002
        return rig;
    }

    [Test]
    public void OutOfMemory_v3_16_KillsTheProcessWithTheHighestBadness_AndItsMemoryReturns()
    {
        var rig = ThreeProcesses();
        var victim = rig.Processes.All[1];
        long totalpages = rig.Node.Zones.Sum(z => z.ManagedPages);
        long expectedScore = OomKiller.OomBadness(victim, totalpages) * 1000 / totalpages;

        long got = rig.Sim.WorkloadAnon(20); // pid 1003 runs out of memory on the way

        Assert.That(got, Is.EqualTo(20 * 256), "after the kill the fault succeeds");
        Assert.That(rig.Event(VmEvent.OomKill), Is.EqualTo(1));
        Assert.That(victim.Exited && victim.MemDie && victim.AnonRss == 0);
        Assert.That(rig.Processes.All.Where(p => p != victim).Select(p => p.Exited), Is.All.False);
        Assert.That(rig.Sim.Dmesg(), Does.Contain($"Out of memory: Kill process 1001 (anon) score {expectedScore} or sacrifice child"));
        Assert.That(rig.Sim.HistoryOps, Does.Contain("oom_kill pid 1001"));
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "the victim's data is gone, the others' intact");
    }

    /// <summary>
    /// out_of_memory (v3.16) sleeps schedule_timeout_killable(1) after a kill, one jiffy, unless the task that asked is
    /// the victim: its SIGKILL keeps a TASK_KILLABLE sleeper running, so it returns at once. The same kill (the biggest
    /// process, its exit_mmap alike) asked for by another process and by the victim itself: one jiffy apart.
    /// </summary>
    [Test]
    public void OutOfMemory_v3_16_SleepsAJiffyAfterAKill_UnlessItKilledItself()
    {
        double Took(bool selfKill)
        {
            var rig = ThreeProcesses();
            var victim = rig.Processes.All[1];
            var asking = selfKill ? victim : rig.Processes.All[2];
            double before = rig.Sim.ClockMs;
            rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", () =>
            {
                rig.Processes.Current = asking;
                rig.Get<OomKiller>().OutOfMemory(Engine.PageAlloc.Gfp.HighUserMovable, 0);
                rig.Processes.Current = null;
            })], null);
            Assert.That(victim.MemDie, "precondition: the biggest was killed");
            return rig.Sim.ClockMs - before;
        }

        Assert.That(Took(selfKill: false) - Took(selfKill: true), Is.EqualTo(4.0).Within(1e-9), "one jiffy at HZ 250");
    }

    /// <summary>
    /// exit_mmap drains the exiting CPU's LRU-add batch before it unmaps (lru_add_drain, v3.16 and 6.1): the victim's
    /// pages still parked there (the last of its faults) are freed with the rest, not left for a later drain.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void ExitMmap_DrainsTheLruBatchFirst_EveryPageOfTheVictimIsFreed(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Reclaim = true, Pagevecs = true });
        rig.Sim.WorkloadAnon(8.01);
        var parked = rig.Get<Engine.Mm.Pagevecs>().LruAdd(0);
        Assert.That(parked, Is.Not.Empty, "precondition: the last faults' pages wait in the batch");
        var process = rig.Get<Engine.Workload.ProcessTable>().All[0];
        long mapped = Enumerable.Range(0, process.PteCount).Count(i => process.Pte(i) >= 0); // MM_ANONPAGES lags its faults
        long free = rig.VmStat.Global(ZoneStat.NrFreePages) + mapped + process.PgtablesPages;

        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test",
            () => rig.Get<Engine.Reclaim.IReclaim>().OutOfMemory(Engine.PageAlloc.Gfp.HighUserMovable, 0))], null);

        Assert.That(rig.Get<Engine.Workload.ProcessTable>().All[0].Exited, "precondition: the only process was killed");
        Assert.That(parked, Is.Empty);
        Assert.That(rig.VmStat.Global(ZoneStat.NrFreePages), Is.EqualTo(free), "every page it had is free again, its page tables too");
    }

    /// <summary>
    /// dump_header (v3.16 mm/oom_kill.c): the "invoked oom-killer" line of the faulting task, then
    /// cpuset_print_task_mems_allowed(current)'s "&lt;comm&gt; cpuset=/ mems_allowed=0" (the root cpuset, node 0), then the kill.
    /// </summary>
    [Test]
    public void OomHeader_v3_16_PrintsTheTasksCpusetLineAfterTheInvokedLine()
    {
        var rig = ThreeProcesses();

        rig.Sim.WorkloadAnon(20);

        var lines = rig.Sim.Dmesg().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf(']') + 2)..]).ToList();
        int invoked = lines.FindIndex(l => l.Contains(" invoked oom-killer: "));
        Assert.That(invoked, Is.Not.Negative);
        Assert.That(lines[invoked], Is.EqualTo("anon invoked oom-killer: gfp_mask=0x280da, order=0, oom_score_adj=0"),
            "do_anonymous_page's alloc_zeroed_user_highpage_movable: GFP_HIGHUSER_MOVABLE | __GFP_ZERO");
        Assert.That(lines[invoked + 1], Is.EqualTo("anon cpuset=/ mems_allowed=0"));
        Assert.That(lines[invoked + 2], Does.StartWith("Out of memory: Kill process 1001 (anon) score "));
    }

    [Test]
    public void OomBadness_v3_16_OomScoreAdjShiftsTheChoice()
    {
        var rig = ThreeProcesses();
        rig.Processes.All[1].OomScoreAdj = -1000; // never kill
        rig.Processes.All[0].OomScoreAdj = 500;   // 8 MiB + half of memory: the highest now

        rig.Sim.WorkloadAnon(20);

        Assert.That(rig.Processes.All.Select(p => p.Exited), Is.EqualTo(new[] { true, false, false, false }));
    }

    /// <summary>
    /// oom_badness (v3.16 oom_kill.c): has_capability_noaudit(CAP_SYS_ADMIN) takes 3 % off rss + nr_ptes + swap entries
    /// before oom_score_adj is added; every process here is root. 6.1 has no such bonus.
    /// </summary>
    [Test]
    public void OomBadness_v3_16_RootProcessesGetThe3PercentBonus()
    {
        var rig = ThreeProcesses();
        var p = rig.Processes.All[0];
        long raw = p.AnonRss + p.NrPtes + p.SwapEnts;
        Assume.That(raw * 3 / 100, Is.Positive, "precondition: the bonus is at least a page");

        Assert.That(OomKiller.OomBadness(p, 1_000_000), Is.EqualTo(raw - raw * 3 / 100));
        Assert.That(Engine.Reclaim.V6_1.OomKiller.OomBadness(p, 1_000_000), Is.EqualTo(raw + 2), "6.1: no bonus (and its PMD and PUD tables count)");
    }

    [Test]
    public void BalloonAllocation_v3_16_NoRetry_NeverInvokesTheOomKiller()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadAnon(rig.Get<Engine.PageAlloc.IBuddyAllocator>().AllocatablePages(Engine.Mm.Zone.WmarkLow) / 256.0 - 0.5);
        long kills = rig.Event(VmEvent.OomKill);

        rig.Sim.HostSetTarget(16);
        rig.Sim.Run(1000);

        Assert.That(rig.Event(VmEvent.OomKill), Is.EqualTo(kills), "__GFP_NORETRY: one round of direct reclaim, then failure");
        Assert.That(rig.Sim.BalloonOutOfPuff, Is.GreaterThan(0));
        Assert.That(rig.Sim.BalloonPages, Is.LessThan(16 * 256));
    }
}
