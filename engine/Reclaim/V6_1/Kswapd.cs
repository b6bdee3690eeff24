using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V6_1;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// kswapd0 of 6.1 mm/vmscan.c on the simulated clock. <c>wakeup_kswapd</c> records the order and highest zone asked for
/// and wakes the thread unless it is running, the node is hopeless (<c>kswapd_failures</c> ≥ 16) or balanced and not
/// boosted — then it wakes kcompactd instead for a request that cannot reclaim itself. Awake, <c>balance_pgdat</c>
/// reclaims the node (boost reclaim first, without writeback or swap) until one eligible zone is above its high
/// watermark, counts a failure if it reclaimed nothing, gives back the boosts and wakes kcompactd at pageblock order;
/// then <c>kswapd_try_to_sleep</c>: if the node is balanced (or hopeless) it clears the skip bits, wakes kcompactd for
/// the order it was woken for and naps HZ/10, then sleeps if still so (the thread itself: <see cref="KswapdThread"/>).
/// </summary>
internal sealed partial class Kswapd : KswapdThread
{
    /// <summary>MAX_NR_ZONES as pgdat-&gt;kswapd_highest_zoneidx: no request recorded.</summary>
    private const int NoZone = 5;

    private readonly Node _node;
    private readonly LruvecShrinker _shrinker;
    private readonly NodeReclaimState _state;
    private readonly Workingset _workingset;
    private readonly IBackgroundCompaction _background;
    private readonly Kcompactd _kcompactd;
    private readonly IBuddyAllocator _buddy;
    private int _kswapdOrder;                   // pgdat->kswapd_order
    private int _kswapdHighestZoneidx = NoZone; // pgdat->kswapd_highest_zoneidx
    private int _highestZoneidx = NoZone - 1;   // kswapd()'s highest_zoneidx, kept across sleeps
    private int _napReclaimOrder;

    public Kswapd(Node node, LruvecShrinker shrinker, NodeReclaimState state, Workingset workingset, IBackgroundCompaction background,
        Kcompactd kcompactd, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock) : base(node, vmstat, scheduler, clock)
    {
        _node = node;
        _shrinker = shrinker;
        _state = state;
        _workingset = workingset;
        _background = background;
        _kcompactd = kcompactd;
        _buddy = buddy;
    }

    protected override object SaveVersionState() => (_kswapdOrder, _kswapdHighestZoneidx, _highestZoneidx, _napReclaimOrder);

    protected override void RestoreVersionState(object saved) =>
        (_kswapdOrder, _kswapdHighestZoneidx, _highestZoneidx, _napReclaimOrder) = ((int, int, int, int))saved;

    /// <summary>
    /// wakeup_kswapd (6.1): record the request; nothing more while kswapd runs; a hopeless node, or one balanced for the
    /// request and not boosted, wakes kcompactd instead (only for a request without __GFP_DIRECT_RECLAIM); else wake
    /// kswapd — during its nap that counts kswapd_low_wmark_hit_quickly and keeps the order it balanced for.
    /// </summary>
    public void WakeupKswapd(int order, int highestZoneidx, Gfp gfp)
    {
        if (_kswapdHighestZoneidx == NoZone || _kswapdHighestZoneidx < highestZoneidx) _kswapdHighestZoneidx = highestZoneidx;
        if (_kswapdOrder < order) _kswapdOrder = order;
        if (Running) return;
        if (_state.Hopeless || (PgdatBalanced(order, highestZoneidx) && !PgdatWatermarkBoosted(highestZoneidx)))
        {
            if ((gfp & Gfp.Wait) == 0) _kcompactd.Wakeup(order, _shrinker.ClassZone(highestZoneidx));
            return;
        }
        if (Napping)
        {
            _kswapdHighestZoneidx = KswapdHighestZoneidx(_highestZoneidx);
            if (_kswapdOrder < _napReclaimOrder) _kswapdOrder = _napReclaimOrder;
            Vmstat.Count(VmEvent.KswapdLowWmarkHitQuickly);
        }
        Run();
    }

    /// <summary>kswapd_highest_zoneidx: the recorded request's zone, or the previous one if none was recorded.</summary>
    private int KswapdHighestZoneidx(int previous) => _kswapdHighestZoneidx == NoZone ? previous : _kswapdHighestZoneidx;

    /// <summary>
    /// kswapd()'s loop from a wake-up until it naps: take the request, balance_pgdat, and kswapd_try_to_sleep — for the
    /// order it fell back to with kcompactd asked for the original order, or, balanced at the order asked, for the
    /// order recorded since.
    /// </summary>
    [Preemptible]
    protected override void Loop()
    {
        using var _ = Scheduler.Current.Path.Enter("kswapd");
        for (int round = 1; ; round++)
        {
            int allocOrder = _kswapdOrder;
            _highestZoneidx = KswapdHighestZoneidx(_highestZoneidx);
            _kswapdOrder = 0;
            _kswapdHighestZoneidx = NoZone;
            int reclaimOrder = BalancePgdat(allocOrder, _highestZoneidx);
            if (reclaimOrder >= allocOrder)
            {
                allocOrder = reclaimOrder = _kswapdOrder;
                _highestZoneidx = KswapdHighestZoneidx(_highestZoneidx);
            }
            bool prepared = PrepareKswapdSleep(reclaimOrder, _highestZoneidx);
            if (prepared || round == MaxRoundsPerWake)
            {
                if (prepared) _background.BeforeNap(allocOrder, reclaimOrder, _shrinker.ClassZone(_highestZoneidx));
                _napReclaimOrder = reclaimOrder;
                Nap();
                return;
            }
            Vmstat.Count(VmEvent.KswapdHighWmarkHitQuickly);
        }
    }

    /// <summary>The end of the HZ/10 nap: still balanced (or hopeless) → sleep until woken.</summary>
    protected override bool SleepAfterNap() => PrepareKswapdSleep(_napReclaimOrder, _highestZoneidx);

    /// <summary>
    /// balance_pgdat (6.1); see the class comment. Set ZONE_RECLAIM_ACTIVE on the eligible zones while it works (the pcp
    /// high mark is capped). Returns the order it finished at (0 once compact_gap(order) pages were reclaimed). All of it a
    /// memory stall (psi_memstall_enter after set_task_reclaim_state, leave before it is cleared).
    /// </summary>
    [Preemptible]
    private int BalancePgdat(int order, int highestZoneidx)
    {
        using var _ = Scheduler.Current.Path.Enter("balance_pgdat");
        using var stall = Scheduler.Psi.Memstall();
        Vmstat.Count(VmEvent.Pageoutrun);
        var sc = new ScanControl { GfpMask = Gfp.Kernel, Order = order, Kswapd = true };
        var eligible = _node.Zones.Where(z => z.Index <= highestZoneidx).ToArray();
        var zoneBoosts = eligible.Select(z => z.WatermarkBoost).ToArray();
        long nrBoostReclaim = zoneBoosts.Sum();
        bool boosted = nrBoostReclaim > 0, balancedOut = false;
        SetReclaimActive(eligible, true);
        do
        {
            bool restart = false;
            sc.Priority = ScanControl.DefPriority;
            do
            {
                long nrReclaimed = sc.NrReclaimed;
                bool raisePriority = true;
                sc.ReclaimIdx = highestZoneidx;
                bool balanced = PgdatBalanced(sc.Order, highestZoneidx);
                if (!balanced && nrBoostReclaim > 0)
                {
                    nrBoostReclaim = 0;
                    restart = true;
                    break;
                }
                if (nrBoostReclaim == 0 && balanced)
                {
                    balancedOut = true;
                    break;
                }
                if (nrBoostReclaim > 0 && sc.Priority == ScanControl.DefPriority - 2) raisePriority = false;
                sc.MayWritepage = nrBoostReclaim == 0;
                sc.MaySwap = nrBoostReclaim == 0;
                _shrinker.AgeNode(sc);
                if (sc.Priority < ScanControl.DefPriority - 2) sc.MayWritepage = true;
                sc.NrScanned = 0;
                if (KswapdShrinkNode(sc)) raisePriority = false;
                nrReclaimed = sc.NrReclaimed - nrReclaimed;
                nrBoostReclaim -= Math.Min(nrBoostReclaim, nrReclaimed);
                if (nrBoostReclaim > 0 && nrReclaimed == 0) break;
                if (raisePriority || nrReclaimed == 0) sc.Priority--;
            } while (sc.Priority >= 1);
            if (restart) continue;
            if (!balancedOut && sc.NrReclaimed == 0) _state.KswapdFailures++;
            break;
        } while (true);
        SetReclaimActive(eligible, false);
        if (boosted)
        {
            for (int i = 0; i < eligible.Length; i++)
            {
                if (zoneBoosts[i] == 0) continue;
                var zone = eligible[i];
                zone.Lock.Lock();
                zone.WatermarkBoost -= Math.Min(zone.WatermarkBoost, zoneBoosts[i]);
                zone.Lock.Unlock();
            }
            _kcompactd.Wakeup(Zone.PageblockOrder, _shrinker.ClassZone(highestZoneidx));
        }
        _workingset.SnapshotRefaults();
        return sc.Order;
    }

    /// <summary>
    /// kswapd_shrink_node (6.1): reclaim the high watermarks of the eligible zones (at least SWAP_CLUSTER_MAX each) from
    /// the node; once compact_gap(order) pages were reclaimed, balance for order 0. True if it scanned at least that much.
    /// </summary>
    [Preemptible]
    private bool KswapdShrinkNode(ScanControl sc)
    {
        sc.NrToReclaim = _node.Zones.Where(z => z.Index <= sc.ReclaimIdx)
            .Sum(z => Math.Max(z.WmarkPages(Zone.WmarkHigh), ScanControl.SwapClusterMax));
        _shrinker.ShrinkNode(sc);
        if (sc.Order > 0 && sc.NrReclaimed >= 2L << sc.Order) sc.Order = 0;
        return sc.NrScanned >= sc.NrToReclaim;
    }

    /// <summary>update_reclaim_active (6.1): ZONE_RECLAIM_ACTIVE on or off.</summary>
    private static void SetReclaimActive(Zone[] zones, bool active)
    {
        foreach (var zone in zones)
            zone.Flags = active ? zone.Flags | ZoneFlags.ReclaimActive : zone.Flags & ~ZoneFlags.ReclaimActive;
    }

    /// <summary>prepare_kswapd_sleep (6.1): a hopeless node sleeps; a balanced one clears its congested/dirty/writeback flags and sleeps.</summary>
    private bool PrepareKswapdSleep(int order, int highestZoneidx)
    {
        if (_state.Hopeless) return true;
        if (!PgdatBalanced(order, highestZoneidx)) return false;
        _node.PgdatFlags &= ~(ZoneFlags.Congested | ZoneFlags.TailLruDirty | ZoneFlags.Writeback);
        return true;
    }

    /// <summary>pgdat_balanced (6.1): some zone up to <paramref name="highestZoneidx"/> meets its (boosted) high watermark at the order; a node without such a zone is balanced.</summary>
    private bool PgdatBalanced(int order, int highestZoneidx)
    {
        bool any = false;
        foreach (var zone in _node.Zones)
        {
            if (zone.Index > highestZoneidx) break;
            any = true;
            if (_buddy.ZoneWatermarkOk(zone, order, zone.WmarkPages(Zone.WmarkHigh), _shrinker.ClassZone(highestZoneidx), 0)) return true;
        }
        return !any;
    }

    /// <summary>pgdat_watermark_boosted (6.1): some zone up to <paramref name="highestZoneidx"/> has a boost.</summary>
    private bool PgdatWatermarkBoosted(int highestZoneidx) =>
        _node.Zones.Any(z => z.Index <= highestZoneidx && z.WatermarkBoost != 0);
}
