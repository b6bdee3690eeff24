using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

public class WorkloadLimitTests
{
    [TestCase(64)]
    [TestCase(4608)]
    public void Populate_v316_WatermarkBoundIsExact_EveryPageAllowedIsAllocatedAndNoneMore(long memoryMib)
    {
        var rig = new SimRig(TestOptions.Classic(memoryMib, 1, 1));
        var workload = rig.Get<Engine.Workload.Workload>();
        long max = workload.AllocatablePages();
        Assert.That(rig.Sim.WorkloadAnon(max / 256.0), Is.EqualTo(max), "the low-watermark fast path gave every page it allowed");
        Assert.That(workload.AllocatablePages(), Is.Zero);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rig.Sim.WorkloadAnon(1 / 256.0))!;
        Assert.That(e.Message, Does.Contain("mib must be in [0, 0]"));
    }
}
