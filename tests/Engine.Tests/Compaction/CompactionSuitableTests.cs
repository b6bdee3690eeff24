using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>compaction_suitable (v3.16) with the fragmentation index and sysctl_extfrag_threshold.</summary>
public class CompactionSuitableTests
{
    [Test]
    public void CompactionSuitable_v3_16_WholeZoneRequestAlwaysContinues()
    {
        var rig = Rig.Create(64);
        rig.Sim.WorkloadAnon(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        Assert.That(rig.Get<Compactor>().CompactionSuitable(rig.Node.LargestZone, -1), Is.EqualTo(CompactStatus.Continue));
    }

    [Test]
    public void CompactionSuitable_v3_16_SkippedWithoutTwiceTheRequestAboveTheLowWatermark()
    {
        var rig = Rig.Create(64);
        rig.Sim.WorkloadAnon(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        var zone = rig.Node.LargestZone;
        Assert.That(zone.FreePages, Is.LessThan(zone.Watermark[Engine.Mm.Zone.WmarkLow] + (2 << 9)), "precondition");
        Assert.That(rig.Get<Compactor>().CompactionSuitable(zone, 9), Is.EqualTo(CompactStatus.Skipped));
    }

    [Test]
    public void CompactionSuitable_v3_16_FragmentationIndexAboveThresholdContinuesAtOrBelowSkips()
    {
        var rig = Rig.Create(64).FragmentedAnon();
        var zone = rig.Node.LargestZone;
        var compactor = rig.Get<Compactor>();
        int fragindex = Fragmentation.ZoneIndex(zone, 9);
        Assert.That(compactor.ExtfragThreshold, Is.EqualTo(500), "sysctl_extfrag_threshold default");
        Assert.That(fragindex, Is.GreaterThan(500));

        Assert.That(compactor.CompactionSuitable(zone, 9), Is.EqualTo(CompactStatus.Continue));
        compactor.ExtfragThreshold = fragindex;
        Assert.That(compactor.CompactionSuitable(zone, 9), Is.EqualTo(CompactStatus.Skipped), "index <= threshold: lack of memory");
        compactor.ExtfragThreshold = fragindex - 1;
        Assert.That(compactor.CompactionSuitable(zone, 9), Is.EqualTo(CompactStatus.Continue));
    }

    [Test]
    public void CompactionSuitable_v3_16_PartialWhenTheOrderIsAlreadyFree()
    {
        var rig = Rig.Create(64);
        var zone = rig.Node.LargestZone;
        Assert.That(Fragmentation.ZoneIndex(zone, 9), Is.EqualTo(-1000), "precondition: free order-10 blocks after boot");
        Assert.That(rig.Get<Compactor>().CompactionSuitable(zone, 9), Is.EqualTo(CompactStatus.Partial));
    }
}
