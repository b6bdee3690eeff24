using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>defer_compaction / compaction_deferred / compaction_defer_reset / compaction_restarting (v3.16 compaction.h).</summary>
public class DeferralTests
{
    private readonly Deferral _deferral = new();

    [Test]
    public void CompactionDeferred_v3_16_NeverBelowTheLowestFailedOrder()
    {
        var zone = Rig.Create(64).Node.LargestZone;
        _deferral.CompactionDeferReset(zone, 9, allocSuccess: true); // an order-9 success: compact_order_failed 10
        _deferral.DeferCompaction(zone, 9);
        Assert.That(zone.CompactOrderFailed, Is.EqualTo(9));
        Assert.That(_deferral.CompactionDeferred(zone, 8), Is.False);
        Assert.That(zone.CompactConsidered, Is.Zero, "orders below compact_order_failed are not counted");
        Assert.That(_deferral.CompactionDeferred(zone, 9), Is.True);
    }

    [Test]
    public void CompactionDeferred_v3_16_FromBootAFailureDefersEveryOrder()
    {
        var zone = Rig.Create(64).Node.LargestZone;
        Assert.That((zone.CompactOrderFailed, zone.CompactDeferShift, zone.CompactConsidered), Is.EqualTo((0, 0, 0)),
            "a zeroed struct zone: nothing sets compact_order_failed at boot");
        Assert.That(_deferral.CompactionDeferred(zone, 9), Is.False, "a window of 1 << 0 defers nothing");

        _deferral.DeferCompaction(zone, 9);
        Assert.That(zone.CompactOrderFailed, Is.Zero, "min(0, 9)");
        Assert.That(_deferral.CompactionDeferred(zone, 2), Is.True, "an order-2 attempt is deferred after the order-9 failure");
        Assert.That(_deferral.CompactionDeferred(zone, 2), Is.False, "the window of 2 ran out");
    }

    [Test]
    public void DeferCompaction_v3_16_SkipsTwoToTheShiftMinusOneAttemptsAndCapsTheShiftAt6()
    {
        var zone = Rig.Create(64).Node.LargestZone;
        for (int failures = 1; failures <= 8; failures++)
        {
            _deferral.DeferCompaction(zone, 9);
            int shift = Math.Min(failures, Deferral.CompactMaxDeferShift);
            Assert.That(zone.CompactDeferShift, Is.EqualTo(shift));
            int skipped = 0;
            while (_deferral.CompactionDeferred(zone, 9)) skipped++;
            Assert.That(skipped, Is.EqualTo((1 << shift) - 1), $"after {failures} failures");
            Assert.That(zone.CompactConsidered, Is.EqualTo(1 << shift));
            Assert.That(_deferral.CompactionDeferred(zone, 9), Is.False, "considered stays capped at the limit");
            Assert.That(zone.CompactConsidered, Is.EqualTo(1 << shift));
        }
    }

    [Test]
    public void CompactionRestarting_v3_16_OnlyWhenTheMaximalWindowRanOut()
    {
        var zone = Rig.Create(64).Node.LargestZone;
        _deferral.CompactionDeferReset(zone, 9, allocSuccess: true); // compact_order_failed 10, then 9 below
        for (int i = 0; i < Deferral.CompactMaxDeferShift; i++) _deferral.DeferCompaction(zone, 9);
        Assert.That(_deferral.CompactionRestarting(zone, 9), Is.False);
        while (_deferral.CompactionDeferred(zone, 9)) { }
        Assert.That(_deferral.CompactionRestarting(zone, 9), Is.True);
        Assert.That(_deferral.CompactionRestarting(zone, 8), Is.False, "below compact_order_failed");
    }

    [Test]
    public void CompactionDeferReset_v3_16_SuccessClearsTheWindowAndRaisesOrderFailed()
    {
        var zone = Rig.Create(64).Node.LargestZone;
        _deferral.DeferCompaction(zone, 9);
        _deferral.DeferCompaction(zone, 9);
        _deferral.CompactionDeferred(zone, 9);

        _deferral.CompactionDeferReset(zone, 9, allocSuccess: false);
        Assert.That((zone.CompactDeferShift, zone.CompactConsidered, zone.CompactOrderFailed), Is.EqualTo((2, 1, 10)));

        _deferral.CompactionDeferReset(zone, 9, allocSuccess: true);
        Assert.That((zone.CompactDeferShift, zone.CompactConsidered, zone.CompactOrderFailed), Is.EqualTo((0, 0, 10)));
    }
}
