using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>Two CPUs compacting the same memory at once, interleaved at every preemption point.</summary>
public class ConcurrentCompactionTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void CompactZone_v3_16_TwoCpusCompactingTogetherKeepDataAndAccounting(long seed)
    {
        var rig = Rig.Create(32, cpus: 2).FragmentedAnon();
        long freeBefore = rig.VmStat.Global(ZoneStat.NrFreePages);
        var tokens = rig.Tokens();
        var compactor = rig.Get<Compactor>();
        SimTask[] tasks = [compactor.CompactionTask(0, 0, -1, MigrateMode.Sync), compactor.CompactionTask(1, 1, 9, MigrateMode.Async)];

        var outcome = rig.Sim.RunKernelPaths("race", tasks, new RandomStrategy(seed));

        Assert.That(outcome.Completed, Is.True, outcome.Deadlock);
        Assert.That(rig.Scheduler.Trace.Select(e => e.Cpu).Distinct().Count(), Is.EqualTo(2), "both CPUs ran");
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.GreaterThan(0));
        Assert.That(rig.VmStat.Global(ZoneStat.NrFreePages), Is.EqualTo(freeBefore));
        Assert.That(rig.VmStat.Global(ZoneStat.NrIsolatedAnon), Is.Zero);
        Assert.That(rig.Tokens().Keys, Is.EquivalentTo(tokens.Keys));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
