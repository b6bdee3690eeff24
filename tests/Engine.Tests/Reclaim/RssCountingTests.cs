using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// SPLIT_RSS_COUNTING (v3.16 and 6.1.78 mm/memory.c; on in both versions' SMP builds): a task's own faults count
/// MM_ANONPAGES and MM_SWAPENTS in its <c>rss_stat</c> (add_mm_counter_fast), and check_sync_rss_stat at the start of a
/// fault folds them into the mm's counters once more than TASK_RSS_EVENTS_THRESH (64) faults have passed since the
/// last fold; its own unmap folds them first (add_mm_rss_vec), and so does its exit. The OOM killer reads the mm's
/// counters (get_mm_counter), so its badness and its kill line lag the faults.
/// </summary>
public class RssCountingTests
{
    private static long Mapped(Process p) => Enumerable.Range(0, p.PteCount).Count(i => p.Pte(i) >= 0);

    /// <summary>
    /// 256 faults: the 66th, 132nd and 198th fold the 65, 66 and 66 before them (events++ &gt; 64, then 0), so the mm
    /// counts 197 pages and the task holds 59; a munmap of the process's own folds them in.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void MmAnonPages_LagsTheTasksFaults_UntilTheFaultAfter64_OrItsOwnMunmap(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design));
        rig.Sim.WorkloadAnon(1);
        var process = rig.Get<ProcessTable>().All[0];
        Assert.That(Mapped(process), Is.EqualTo(256), "precondition: every fault mapped its page");
        Assert.That(process.AnonRss, Is.EqualTo(65 + 66 + 66));

        rig.Sim.WorkloadFree(0.25, "interleave", 1, "anon");

        Assert.That(process.AnonRss, Is.EqualTo(Mapped(process)).And.EqualTo(256 - 64));
    }

    /// <summary>
    /// The OOM killer weighs and prints what the mm counts: a process of 256 faults is killed with anon-rss 197 pages
    /// (788 kB), the 59 its task still holds left out, in v3.16's kill line and 6.1's alike.
    /// </summary>
    [TestCase("legacy", "Killed process 1000 (anon) total-vm:1024kB, anon-rss:788kB, file-rss:0kB")]
    [TestCase("v6.1", "Out of memory: Killed process 1000 (anon) total-vm:1024kB, anon-rss:788kB, file-rss:0kB")]
    public void OomKillLine_PrintsTheMmsCount_NotTheFaultsTheTaskHasNotFoldedIn(string design, string killLine)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Reclaim = true });
        rig.Sim.WorkloadAnon(1);

        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test",
            () => rig.Get<Engine.Reclaim.IReclaim>().OutOfMemory(Engine.PageAlloc.Gfp.HighUserMovable, 0))], null);

        Assert.That(rig.Sim.Dmesg(), Does.Contain(killLine));
        Assert.That(rig.Get<ProcessTable>().All[0].AnonRss, Is.Zero, "do_exit folded the task's counts in, exit_mmap took them all off");
    }
}
