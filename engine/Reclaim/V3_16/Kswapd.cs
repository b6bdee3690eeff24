using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// kswapd0, the node's reclaim thread (v3.16 mm/vmscan.c), on the simulated clock (<see cref="KswapdThread"/>). Asleep,
/// it is woken by an allocation that fell below a zone's low watermark (<c>wakeup_kswapd</c>); awake, it runs
/// <c>balance_pgdat</c> — reclaim at priorities 12 down to 1 until every zone (for order 0), or a quarter of the node's
/// memory (for higher orders), is above its high watermark, compacting for high-order requests — then naps HZ/10
/// (<c>kswapd_try_to_sleep</c>) and, if the node is still balanced, sleeps for good. How it compacts and when it
/// clears the pageblock skip bits is the design's background compaction (<see cref="IBackgroundCompaction"/>:
/// v3.16's <c>compact_pgdat</c> and <c>reset_isolation_suitable</c> on the way to sleep, or v4.8's kcompactd woken
/// before the nap). docs/kernel/reclaim-v3.16.md §3.
/// </summary>
internal sealed partial class Kswapd : KswapdThread
{
    private readonly Node _node;
    private readonly LruShrinker _shrinker;
    private readonly ShrinkSlab _shrinkSlab;
    private readonly ICompaction _compaction;
    private readonly IBackgroundCompaction _background;
    private readonly IBuddyAllocator _buddy;
    private int _maxOrder;          // pgdat->kswapd_max_order
    private int _classzoneIdx;      // pgdat->classzone_idx
    private int _napOrder, _napClasszone;

    public Kswapd(Node node, LruShrinker shrinker, ShrinkSlab shrinkSlab, ICompaction compaction, IBackgroundCompaction background,
        IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock) : base(node, vmstat, scheduler, clock)
    {
        _node = node;
        _shrinker = shrinker;
        _shrinkSlab = shrinkSlab;
        _compaction = compaction;
        _background = background;
        _buddy = buddy;
        _classzoneIdx = node.Zones.Count - 1;
    }

    protected override object SaveVersionState() => (_maxOrder, _classzoneIdx, _napOrder, _napClasszone);

    protected override void RestoreVersionState(object saved) =>
        (_maxOrder, _classzoneIdx, _napOrder, _napClasszone) = ((int, int, int, int))saved;

    /// <summary>
    /// wakeup_kswapd (v3.16): record the order (and the lowest classzone) asked for; unless kswapd is running
    /// already or the zone is balanced for that order, wake it — during its nap that counts
    /// kswapd_low_wmark_hit_quickly. True if it woke kswapd.
    /// </summary>
    public bool WakeupKswapd(Zone zone, int order, int classzoneIdx)
    {
        if (_maxOrder < order)
        {
            _maxOrder = order;
            _classzoneIdx = Math.Min(_classzoneIdx, classzoneIdx);
        }
        if (Running || ZoneBalanced(zone, order, 0, 0)) return false;
        if (Napping) Vmstat.Count(VmEvent.KswapdLowWmarkHitQuickly);
        Run();
        return true;
    }

    /// <summary>kswapd's main loop from a wake-up until it naps: take the request, balance_pgdat, kswapd_try_to_sleep.</summary>
    [Preemptible]
    protected override void Loop()
    {
        using var _ = Scheduler.Current.Path.Enter("kswapd");
        for (int round = 1; ; round++)
        {
            int order = _maxOrder, classzone = _classzoneIdx;
            _maxOrder = 0;
            _classzoneIdx = _node.Zones.Count - 1;
            int balancedClasszone = classzone;
            int balancedOrder = BalancePgdat(order, ref balancedClasszone);
            if (_maxOrder > balancedOrder || _classzoneIdx < balancedClasszone) continue; // a harder request arrived meanwhile
            bool balanced = PgdatBalanced(balancedOrder, balancedClasszone);
            if (balanced || round == MaxRoundsPerWake)
            {
                if (balanced) _background.BeforeNap(order, balancedOrder, classzone);
                (_napOrder, _napClasszone) = (balancedOrder, balancedClasszone);
                Nap();
                return;
            }
            Vmstat.Count(VmEvent.KswapdHighWmarkHitQuickly);
        }
    }

    /// <summary>The end of kswapd's HZ/10 nap: still balanced → reset_isolation_suitable and sleep until woken.</summary>
    [Preemptible]
    protected override bool SleepAfterNap()
    {
        if (!PgdatBalanced(_napOrder, _napClasszone)) return false;
        _background.BeforeSleep();
        return true;
    }

    /// <summary>
    /// balance_pgdat (v3.16): pageoutrun; from priority 12 down to 1, find the highest unbalanced zone (ageing anon
    /// on the way), shrink every zone up to it with kswapd_shrink_zone, give up the high order once 2 &lt;&lt; order
    /// pages were reclaimed, compact for it otherwise, and lower the priority unless a zone scanned enough and
    /// something was reclaimed — until the node is balanced. Returns the order balanced for.
    /// </summary>
    private int BalancePgdat(int order, ref int classzoneIdx)
    {
        using var _ = Scheduler.Current.Path.Enter("balance_pgdat");
        Vmstat.Count(VmEvent.Pageoutrun);
        var sc = new ScanControl { GfpMask = Gfp.Kernel, Order = order, Kswapd = true };
        var zones = _node.Zones;
        int endZone = 0;
        do
        {
            long lruPages = 0, nrAttempted = 0;
            bool raisePriority = true, pgdatNeedsCompaction = order > 0;
            sc.NrReclaimed = 0;
            int i;
            for (i = zones.Count - 1; i >= 0; i--)
            {
                var zone = zones[i];
                if (sc.Priority != ScanControl.DefPriority && !_shrinker.ZoneReclaimable(zone)) continue;
                _shrinker.AgeActiveAnon(zone, sc);
                if (!ZoneBalanced(zone, order, 0, 0))
                {
                    endZone = i;
                    break;
                }
                zone.Flags &= ~(ZoneFlags.Congested | ZoneFlags.TailLruDirty);
            }
            if (i < 0) break;
            for (int z = 0; z <= endZone; z++)
            {
                var zone = zones[z];
                lruPages += _shrinker.ZoneReclaimablePages(zone);
                if (pgdatNeedsCompaction && _buddy.ZoneWatermarkOk(zone, order, zone.Watermark[Zone.WmarkLow], classzoneIdx, 0))
                    pgdatNeedsCompaction = false;
            }
            if (sc.Priority < ScanControl.DefPriority - 2) sc.MayWritepage = true;
            for (int z = 0; z <= endZone; z++)
            {
                var zone = zones[z];
                if (sc.Priority != ScanControl.DefPriority && !_shrinker.ZoneReclaimable(zone)) continue;
                sc.NrScanned = 0;
                if (KswapdShrinkZone(zone, endZone, sc, lruPages, ref nrAttempted)) raisePriority = false;
            }
            if (order > 0 && sc.NrReclaimed >= 2L << order) order = sc.Order = 0;
            if (pgdatNeedsCompaction && sc.NrReclaimed > nrAttempted) _background.AfterReclaim(order);
            if (raisePriority || sc.NrReclaimed == 0) sc.Priority--;
        } while (sc.Priority >= 1 && !PgdatBalanced(order, classzoneIdx));
        classzoneIdx = endZone;
        return order;
    }

    /// <summary>
    /// kswapd_shrink_zone (v3.16): reclaim the zone towards its high watermark plus a gap of up to 1% of it (only
    /// order-0 memory when compaction can make the high order), then the slab shrinker; true if it scanned at least
    /// what it set out to reclaim.
    /// </summary>
    private bool KswapdShrinkZone(Zone zone, int classzoneIdx, ScanControl sc, long lruPages, ref long nrAttempted)
    {
        sc.NrToReclaim = Math.Max(ScanControl.SwapClusterMax, zone.Watermark[Zone.WmarkHigh]);
        int testorder = sc.Order > 0 && _compaction.CompactionSuitable(zone, sc.Order) != CompactStatus.Skipped ? 0 : sc.Order;
        long balanceGap = Math.Min(zone.Watermark[Zone.WmarkLow], (zone.ManagedPages + 99) / 100);
        if (ZoneBalanced(zone, testorder, balanceGap, classzoneIdx)) return true;
        _shrinker.ShrinkZone(zone, sc);
        sc.NrReclaimed += _shrinkSlab.Shrink(sc.GfpMask, sc.NrScanned, lruPages);
        nrAttempted += sc.NrToReclaim;
        zone.Flags &= ~ZoneFlags.Writeback;
        if (_shrinker.ZoneReclaimable(zone) && ZoneBalanced(zone, testorder, 0, classzoneIdx))
            zone.Flags &= ~(ZoneFlags.Congested | ZoneFlags.TailLruDirty);
        return sc.NrScanned >= sc.NrToReclaim;
    }

    /// <summary>zone_balanced: above the high watermark (+ gap) for the order, and, for a high order, compaction not skipped.</summary>
    private bool ZoneBalanced(Zone zone, int order, long balanceGap, int classzoneIdx) =>
        _buddy.ZoneWatermarkOk(zone, order, zone.Watermark[Zone.WmarkHigh] + balanceGap, classzoneIdx, 0)
        && (order == 0 || _compaction.CompactionSuitable(zone, order) != CompactStatus.Skipped);

    /// <summary>
    /// pgdat_balanced (v3.16): a zone reclaim has given up on counts as balanced; order 0 needs every zone up to
    /// the classzone balanced, a higher order a quarter of their managed pages.
    /// </summary>
    private bool PgdatBalanced(int order, int classzoneIdx)
    {
        long managed = 0, balanced = 0;
        for (int i = 0; i <= classzoneIdx && i < _node.Zones.Count; i++)
        {
            var zone = _node.Zones[i];
            managed += zone.ManagedPages;
            if (!_shrinker.ZoneReclaimable(zone) || ZoneBalanced(zone, order, 0, i)) balanced += zone.ManagedPages;
            else if (order == 0) return false;
        }
        return order == 0 || balanced >= managed / 4;
    }
}
