using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// kcompactd and proactive compaction on the simulated clock (docs/kernel/v6.1.md §3.11; mm/compaction.c of 6.1.78:
/// kcompactd, kcompactd_do_work, wakeup_kcompactd, should_proactive_compact_node, fragmentation_score_*): the thread
/// wakes every HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms) and compacts proactively while the node's score is above 90
/// (proactiveness 20), down to 80, backing off 32 s when a run does not lower the score.
/// </summary>
public class KcompactdTests
{
    private static long Scanned(RigV6_1 rig) => rig.Event(VmEvent.CompactMigrateScanned);

    [Test]
    public void FragmentationScoreWmark_v6_1_ProactivenessTwentyGivesEightyAndNinety()
    {
        Assert.That(Kcompactd.FragmentationScoreWmark(20, low: true), Is.EqualTo(80));
        Assert.That(Kcompactd.FragmentationScoreWmark(20, low: false), Is.EqualTo(90));
        Assert.That(Kcompactd.FragmentationScoreWmark(100, low: true), Is.EqualTo(5), "capped");
    }

    /// <summary>
    /// A fragmented guest (score near 100): nothing happens before the first 500 ms timeout; at it, proactive compaction
    /// runs (pages scanned and migrated, no compact_daemon_wake: that counts kcompactd_do_work only) and stops each zone
    /// at the low mark, 80. Watermark boosting is off: the page tables' unmovable pages steal from a movable pageblock,
    /// whose boost would ask kcompactd for a pageblock (wakeup_kcompactd), and that request, not the proactive check,
    /// would be what the timeout serves (<see cref="Kcompactd_v6_1_TheTimeoutServesAPendingRequestInsteadOfProactiveCompaction"/>).
    /// </summary>
    [Test]
    public void Kcompactd_v6_1_ProactiveCompactionWakesAt500msOnTheClock()
    {
        var rig = RigV6_1.Create(64, boostFactor: 0).FragmentedAnon();
        Assert.That(Kcompactd.FragmentationScoreNode(rig.Node), Is.GreaterThan(90), "precondition: a fragmented node");
        rig.Sim.Run(499 - rig.Sim.ClockMs);
        Assert.That(Scanned(rig), Is.Zero, "kcompactd still waits");
        rig.Sim.Run(2);
        Assert.That(Scanned(rig), Is.Positive);
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.Positive);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero);
        Assert.That(Kcompactd.FragmentationScoreZone(rig.Zone("DMA32")), Is.LessThanOrEqualTo(80));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>compaction_proactiveness 0: kcompactd waits with no timeout (MAX_SCHEDULE_TIMEOUT); nothing is armed.</summary>
    [Test]
    public void Kcompactd_v6_1_ProactivenessZeroNeverWakesOnTheClock()
    {
        var rig = RigV6_1.Create(64, proactiveness: 0).FragmentedAnon();
        Assert.That(rig.Get<SimClock>().PendingTimers, Is.Zero);
        rig.Sim.Run(5000);
        Assert.That(Scanned(rig), Is.Zero);
    }

    /// <summary>
    /// Fragmentation by unmovable slab: the proactive run at 500 ms cannot lower the score, so kcompactd waits
    /// 500 ms &lt;&lt; COMPACT_MAX_DEFER_SHIFT = 32 s before it looks again.
    /// </summary>
    [Test]
    public void Kcompactd_v6_1_NoProgressBacksOffThirtyTwoSeconds()
    {
        var rig = RigV6_1.Create(64);
        rig.Sim.WorkloadSlab(rig.Get<Workload.Workload>().AllocatablePages() / 256.0);
        rig.Sim.WorkloadFree(0.5, "interleave", 0);
        Assert.That(Kcompactd.FragmentationScoreNode(rig.Node), Is.GreaterThan(90), "precondition: a fragmented node");
        rig.Sim.Run(600 - rig.Sim.ClockMs);
        long first = Scanned(rig);
        Assert.That(first, Is.Positive, "the first proactive run at 500 ms");
        Assert.That(rig.Event(VmEvent.PgmigrateSuccess), Is.Zero, "slab cannot move");
        rig.Sim.Run(32_400 - rig.Sim.ClockMs);
        Assert.That(Scanned(rig), Is.EqualTo(first), "backed off");
        rig.Sim.Run(33_000 - rig.Sim.ClockMs);
        Assert.That(Scanned(rig), Is.GreaterThan(first), "checked again 32 s after the first run");
    }

    /// <summary>
    /// wakeup_kcompactd from kswapd_try_to_sleep (6.1: kswapd balanced and about to nap, for the order it was woken for):
    /// kcompactd_do_work counts compact_daemon_wake and its scanned pages, and compacts to an order-9 block; order 0
    /// wakes nobody. kswapd itself no longer compacts.
    /// </summary>
    [Test]
    public void WakeupKcompactd_v6_1_KswapdBeforeItsNapRunsKcompactdDoWorkForItsOrder()
    {
        var rig = RigV6_1.Create(64).FragmentedAnon();
        var background = rig.Get<IBackgroundCompaction>();
        rig.RunOnCpu0(() => background.AfterReclaim(9));
        rig.RunOnCpu0(() => background.BeforeNap(0, 0, 1));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero);
        Assert.That(Scanned(rig), Is.Zero);
        rig.RunOnCpu0(() => background.BeforeNap(9, 0, 1));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1));
        Assert.That(rig.Event(VmEvent.CompactDaemonMigrateScanned), Is.Positive.And.LessThanOrEqualTo(Scanned(rig)));
        Assert.That(rig.Event(VmEvent.CompactDaemonFreeScanned), Is.Positive);
        Assert.That(rig.Sim.FreeBlocks().Skip(9).Sum(), Is.Positive);
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// kcompactd (6.1.78 mm/compaction.c): wakeup_kcompactd raises kcompactd_max_order but wakes the thread only when the
    /// node is suitable; a fresh guest has order-9 blocks free (compaction_suitable: SUCCESS), so nothing runs then. The
    /// request stays pending, and at the 500 ms timeout wait_event_freezable_timeout finds kcompactd_work_requested true
    /// and returns as woken: kcompactd_do_work runs (compact_daemon_wake), once, and the request is forgotten.
    /// </summary>
    [Test]
    public void Kcompactd_v6_1_ARequestLeftPendingRunsKcompactdDoWorkAtTheNextTimeout()
    {
        var rig = RigV6_1.Create(64);
        var background = rig.Get<IBackgroundCompaction>();
        rig.RunOnCpu0(() => background.BeforeNap(9, 0, 1));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero, "the node is not suitable: nobody woken");

        rig.Sim.Run(499 - rig.Sim.ClockMs);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero, "kcompactd still waits");
        rig.Sim.Run(2);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1), "the timeout found the request");
        rig.Sim.Run(5000);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1), "served once, then forgotten");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>
    /// The timeout that finds a request pending runs kcompactd_do_work instead of the proactive check (kcompactd's
    /// <c>if (wait_event_freezable_timeout(...) &amp;&amp; !proactive_compact_trigger) { kcompactd_do_work; continue; }</c>):
    /// on a fragmented node (score 100) too short of free pages for an order-9 compaction (every zone SKIPPED, so the
    /// request woke nobody), the 500 ms tick only counts compact_daemon_wake and compacts nothing; proactive compaction
    /// runs at the next tick. Watermark boosting is off, so the only request is the one made here (a boost after the page
    /// tables' fallback would wake kcompactd while the node is still suitable).
    /// </summary>
    [Test]
    public void Kcompactd_v6_1_TheTimeoutServesAPendingRequestInsteadOfProactiveCompaction()
    {
        var rig = RigV6_1.Create(64, boostFactor: 0).FragmentedAnon();
        rig.Sim.WorkloadAnon(rig.Get<Workload.Workload>().AllocatablePages() / 256.0); // free pages down to the low watermarks
        Assert.That(Kcompactd.FragmentationScoreNode(rig.Node), Is.GreaterThan(90), "precondition: a fragmented node");
        var background = rig.Get<IBackgroundCompaction>();
        rig.RunOnCpu0(() => background.BeforeNap(9, 0, 1));
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.Zero, "precondition: no zone suitable, nobody woken");

        rig.Sim.Run(501 - rig.Sim.ClockMs);
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1));
        Assert.That(Scanned(rig), Is.Zero, "kcompactd_do_work found no zone suitable; no proactive run on this tick");
        rig.Sim.Run(1001 - rig.Sim.ClockMs);
        Assert.That(Scanned(rig), Is.Positive, "the next tick compacts proactively");
        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1));
    }

    /// <summary>
    /// kcompactd_do_work (6.1.78 mm/compaction.c) compacts every zone with one compact_control, and compact_zone sets
    /// whole_zone but never clears it: DMA's run starts at the zone's first pageblock (its cached position is at or below
    /// compact_init_migrate_pfn), so DMA32's run starts at DMA32's first pageblock too, not at its cached position
    /// half-way up, and migrates pages from below that position.
    /// </summary>
    [Test]
    public void KcompactdDoWork_v6_1_OneCompactControl_AWholeZoneRunInDmaMakesDma32sRunWhole()
    {
        var rig = RigV6_1.Create(64).FragmentedAnon();
        var dma = rig.Zone("DMA");
        var dma32 = rig.Zone("DMA32");
        int cached = dma32.StartPfn + 8 * (1 << Engine.Mm.Zone.PageblockOrder);
        dma32.CompactCachedMigratePfn[0] = dma32.CompactCachedMigratePfn[1] = cached;
        int AnonBelowCached() => Enumerable.Range(dma32.StartPfn, cached - dma32.StartPfn).Count(p => rig.Pages.Kind[p] == (byte)Engine.Mm.PageKind.Anon);
        byte[] DmaKinds() => Enumerable.Range(dma.StartPfn, dma.EndPfn - dma.StartPfn).Select(p => rig.Pages.Kind[p]).ToArray();
        int anonBelow = AnonBelowCached();
        var dmaKinds = DmaKinds();
        Assert.That(dma.CompactCachedMigratePfn[1], Is.LessThanOrEqualTo(dma.CompactInitMigratePfn), "precondition: DMA's run is a whole-zone one");
        Assert.That(cached, Is.GreaterThan(dma32.CompactInitMigratePfn), "precondition: alone, DMA32's run would start at its cached position");
        var background = rig.Get<IBackgroundCompaction>();

        rig.RunOnCpu0(() => background.AfterReclaim(9));
        rig.RunOnCpu0(() => background.BeforeNap(9, 0, 1));

        Assert.That(rig.Event(VmEvent.CompactDaemonWake), Is.EqualTo(1));
        Assert.That(DmaKinds(), Is.Not.EqualTo(dmaKinds), "precondition: DMA was compacted");
        Assert.That(AnonBelowCached(), Is.LessThan(anonBelow), "DMA32's migrate scanner started at the zone's first pageblock");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }
}
