using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Proc;

/// <summary>
/// /proc/vmstat's nr_dirty_threshold and nr_dirty_background_threshold (global_dirty_limits): v3.16 takes 20 % and 10 %
/// of the dirtyable memory; from 4.2 (domain_dirty_limits, in v4.8 and 6.1) each ratio is first a share of PAGE_SIZE,
/// 819 / 4096 and 409 / 4096.
/// </summary>
public class DirtyThresholdTests
{
    [TestCase("legacy", 0, 0, false)]
    [TestCase("movable", 819, 409, true)]
    [TestCase("v6.1", 819, 409, true)]
    public void ProcVmstat_DirtyThresholds_AsTheVersionComputesThem(string design, long dirtyShare, long backgroundShare, bool perPageSize)
    {
        var rig = Rig.Create(TestOptions.Classic(256, 1, 1, design) with { Reclaim = true });
        rig.Sim.WorkloadFile(64);
        long available = rig.Get<Writeback>().GlobalDirtyableMemory();
        long dirty = perPageSize ? dirtyShare * available / 4096 : 20 * available / 100;
        long background = perPageSize ? backgroundShare * available / 4096 : 10 * available / 100;
        if (perPageSize) Assume.That(dirty, Is.Not.EqualTo(20 * available / 100), "precondition: the two formulas differ here");

        string text = rig.Sim.ProcVmstat();
        Assert.That(text, Does.Contain($"\nnr_dirty_threshold {dirty}\n"));
        Assert.That(text, Does.Contain($"\nnr_dirty_background_threshold {background}\n"));
    }
}
