using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>shrink_slab (v3.16 mm/vmscan.c) on the reclaimable slab cache under memory pressure.</summary>
public class ShrinkSlabTests
{
    [Test]
    public void ShrinkSlab_FreesReclaimableSlabPages_AndTheirObjectsLeaveTheDataLedger()
    {
        var rig = new PressureRig(memoryMib: 16, swapMib: 8);
        rig.Sim.WorkloadSlab(1.25, reclaimable: true);
        long slabBefore = rig.Stat(ZoneStat.NrSlabReclaimable);
        rig.Sim.WorkloadFile(6.92);
        rig.Sim.WorkloadAnon(11.4); // more than is free: kswapd and direct reclaim shrink the slab cache too

        Assert.That(rig.Event(VmEvent.SlabsScanned), Is.GreaterThan(0));
        Assert.That(rig.Stat(ZoneStat.NrSlabReclaimable), Is.LessThan(slabBefore), "scan_objects freed slab pages");
        // A freed dentry's data is not lost, it is rebuilt from disk: its token is retired, not missing.
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "the whole-memory data check after every operation");
        long tokens = Enumerable.Range(0, (int)rig.Pages.NrPages).Count(p => rig.Pages.Content[p] != 0)
            + rig.Get<Engine.Swap.SwapArea>().ContentSlots;
        Assert.That(tokens, Is.EqualTo(rig.Get<PageContents>().Live));
    }
}
