using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>kswapd on the simulated clock (docs/kernel/reclaim-v3.16.md §3).</summary>
public class KswapdTests
{
    [Test]
    public void Kswapd_v3_16_WakesBelowLow_ReclaimsPageCache_NapsHz10_ThenSleepsAndResetsSkipBits()
    {
        var rig = new PressureRig();
        var kswapd = rig.Get<Kswapd>();
        var zone = rig.Zone;
        rig.Sim.WorkloadFile(40);
        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.Zero, "above the low watermarks nobody wakes kswapd");
        Assert.That(kswapd.StateName, Is.EqualTo("sleeping"));

        rig.Sim.WorkloadAnon(30); // more than is free: the allocator falls below the low watermarks

        Assert.That(rig.Event(VmEvent.Pageoutrun), Is.GreaterThan(0), "wake_all_kswapds, balance_pgdat");
        Assert.That(rig.EventAllZones(VmEvent.PgstealKswapdDma), Is.GreaterThan(0), "kswapd reclaimed page cache");
        Assert.That(rig.Event(VmEvent.Allocstall), Is.Zero, "kswapd kept up: no direct reclaim");
        Assert.That(kswapd.StateName, Is.EqualTo("napping"));

        rig.Sim.WorkloadFree(0.5, "interleave", 0); // now every zone is above its high watermark
        zone.PageblockSkip[3] = true;               // a skip bit compaction set ...
        zone.CompactBlockskipFlush = true;          // ... with a flush due
        rig.Sim.Run(50);
        Assert.That(kswapd.StateName, Is.EqualTo("napping"), "HZ/10 = 100 ms");
        rig.Sim.Run(60);
        Assert.That(kswapd.StateName, Is.EqualTo("sleeping"));
        Assert.That(zone.PageblockSkip, Has.None.True, "reset_isolation_suitable when kswapd goes to sleep");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void Kswapd_v3_16_WokenDuringItsNap_CountsLowWmarkHitQuickly()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadFile(40);
        rig.Sim.WorkloadAnon(30);
        Assert.That(rig.Get<Kswapd>().StateName, Is.EqualTo("napping"));
        long quickly = rig.Event(VmEvent.KswapdLowWmarkHitQuickly);

        rig.Sim.WorkloadAnon(8);

        Assert.That(rig.Event(VmEvent.KswapdLowWmarkHitQuickly), Is.GreaterThan(quickly));
    }
}
