using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using Deferral = BalloonScript.Engine.Compaction.V3_16.Deferral;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// kcompactd0, the node's compaction thread (6.1 mm/compaction.c, docs/kernel/v6.1.md §3.11), on the simulated clock.
/// It sleeps in <c>wait_event_freezable_timeout</c> for HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms; for ever when
/// <c>compaction_proactiveness</c> is 0). Woken with work (<c>wakeup_kcompactd</c>: kswapd, a boost's end) it runs
/// <c>kcompactd_do_work</c> — every zone not deferred and suitable is compacted at SYNC_LIGHT, honouring skip hints, for
/// the highest order asked — and counts compact_daemon_wake and its scanned pages. When the wait times out it checks
/// proactive compaction: if kswapd is not running and the node's fragmentation score (extfrag at order 9, weighted by
/// zone size) is above the high mark (90 at proactiveness 20), every zone is compacted until its score falls to the low
/// mark (80); a run that did not lower the score backs off 64 intervals (32 s). A request kswapd left while the node was
/// unsuitable (the thread not woken) is served at the next timeout instead of the proactive check, and one made while
/// kcompactd ran right after that run. Woken or timed out, it runs as a kernel path of its own (nested in the waker when
/// running to completion) and then waits again for a full interval. kswapd
/// (<see cref="IBackgroundCompaction"/>) no longer compacts: balanced and about to nap it clears the skip bits due for a
/// flush and wakes kcompactd for the order it was woken for; a boosted balance_pgdat wakes it at pageblock order.
/// </summary>
[KernelPart("background compaction", PartVersion.V6_1)]
internal sealed partial class Kcompactd : IBackgroundCompaction, ISnapshotState
{
    /// <summary>HPAGE_FRAG_CHECK_INTERVAL_MSEC.</summary>
    public const int HpageFragCheckIntervalMsec = 500;
    /// <summary>sysctl_compaction_proactiveness's default.</summary>
    public const int DefaultProactiveness = 20;
    /// <summary>COMPACTION_HPAGE_ORDER (HPAGE_PMD_ORDER with THP): the order of the fragmentation score.</summary>
    public const int CompactionHpageOrder = 9;

    /// <summary>The task id kcompactd0 runs under (kswapd0 is 1 &lt;&lt; 20; scenario tasks count up from 0).</summary>
    private const int KcompactdTaskId = Reclaim.KswapdThread.TaskId + 1;

    private readonly Node _node;
    private readonly PageLists _lists;
    private readonly Lazy<Compactor> _compactor;
    private readonly BuddyAllocator _buddy;
    private readonly Deferral _deferral;
    private readonly Lazy<IReclaim> _reclaim;
    private readonly Scheduler _scheduler;
    private readonly SimClock _clock;
    private readonly VmStat _vmstat;
    private readonly PerCpuPagesets? _pcp;
    private bool _running;
    private int _maxOrder;         // pgdat->kcompactd_max_order
    private int _highestZoneidx;   // pgdat->kcompactd_highest_zoneidx
    private long _waitGeneration;  // which armed timeout is the current wait's

    public Kcompactd(Node node, PageLists lists, Lazy<Compactor> compactor, BuddyAllocator buddy, Deferral deferral, Lazy<IReclaim> reclaim,
        Scheduler scheduler, SimClock clock, VmStat vmstat, SimulationOptions options, PerCpuPagesets? pcp = null)
    {
        _node = node;
        _lists = lists;
        _compactor = compactor;
        _buddy = buddy;
        _deferral = deferral;
        _reclaim = reclaim;
        _scheduler = scheduler;
        _clock = clock;
        _vmstat = vmstat;
        _pcp = pcp;
        Proactiveness = options.CompactionProactiveness ?? DefaultProactiveness;
        _highestZoneidx = node.Zones.Count - 1;
        clock.Handle(TimerKind.KcompactdTimeout, TimedOut);
        Wait(DefaultTimeoutNs); // kcompactd_run at boot: the thread starts by waiting
    }

    /// <summary>vm.compaction_proactiveness, [0, 100].</summary>
    public int Proactiveness { get; }

    /// <summary>msecs_to_jiffies(HPAGE_FRAG_CHECK_INTERVAL_MSEC), in ns.</summary>
    public long DefaultTimeoutNs => _clock.MsecsToJiffies(HpageFragCheckIntervalMsec) * _clock.TickNs;

    /// <summary>Whether kcompactd is working now (false: it waits).</summary>
    public bool Running => _running;

    public object Save() => (_running, _maxOrder, _highestZoneidx, _waitGeneration);

    public void Restore(object saved) => (_running, _maxOrder, _highestZoneidx, _waitGeneration) = ((bool, int, int, long))saved;

    /// <summary>6.1 balance_pgdat does not compact (its boosted end wakes kcompactd: <see cref="PageAlloc.V6_1.WatermarkBoost"/>).</summary>
    public void AfterReclaim(int order) { }

    /// <summary>
    /// kswapd_try_to_sleep (6.1), the node balanced: reset_isolation_suitable, then wakeup_kcompactd for kswapd's
    /// alloc_order (6.1's kswapd loop already chose it from the order balance_pgdat finished at).
    /// </summary>
    [Preemptible]
    public void BeforeNap(int order, int reclaimOrder, int classzoneIdx)
    {
        _compactor.Value.ResetIsolationSuitable();
        Wakeup(order, classzoneIdx);
    }

    /// <summary>6.1 kswapd cleared the skip bits before its nap already.</summary>
    public void BeforeSleep() { }

    /// <summary>
    /// wakeup_kcompactd (6.1): nothing for order 0; raise the order asked for and lower the highest zone; wake the thread
    /// only if it is waiting and some zone up to that one is suitable for compaction at that order.
    /// </summary>
    public void Wakeup(int order, int highestZoneidx)
    {
        if (order == 0) return;
        if (_maxOrder < order) _maxOrder = order;
        if (_highestZoneidx > highestZoneidx) _highestZoneidx = highestZoneidx;
        if (_running || !KcompactdNodeSuitable()) return;
        Run(() =>
        {
            KcompactdDoWork();
            WaitForWork(DefaultTimeoutNs);
        });
    }

    /// <summary>
    /// The wait timed out. wait_event_freezable_timeout looks at its condition once more then: a request left pending
    /// (wakeup_kcompactd raised kcompactd_max_order but found the node unsuitable, so it did not wake the thread) makes it
    /// return as woken, and kcompactd_do_work runs instead of the proactive check. Otherwise proactive compaction if the
    /// node's score calls for it, then wait again (32 s if it did not help).
    /// </summary>
    private void TimedOut(long generation)
    {
        if (_running || generation != _waitGeneration) return;
        Run(() =>
        {
            long timeout = DefaultTimeoutNs;
            if (KcompactdWorkRequested) KcompactdDoWork();
            else if (ShouldProactiveCompactNode())
            {
                int prevScore = FragmentationScoreNode(_node);
                ProactiveCompactNode();
                if (FragmentationScoreNode(_node) >= prevScore) timeout = DefaultTimeoutNs << Deferral.CompactMaxDeferShift;
            }
            WaitForWork(timeout);
        });
    }

    /// <summary>kcompactd_work_requested: an order asked for (kthread_should_stop and the sysctl trigger are not modelled).</summary>
    private bool KcompactdWorkRequested => _maxOrder > 0;

    /// <summary>
    /// The top of kcompactd's loop: wait_event_freezable_timeout tests its condition before it sleeps, so an order asked
    /// for while kcompactd ran (wakeup_kcompactd only raised it) is compacted at once, as often as one is left pending;
    /// then it sleeps.
    /// </summary>
    [Preemptible]
    private void WaitForWork(long timeoutNs)
    {
        while (KcompactdWorkRequested)
        {
            KcompactdDoWork();
            timeoutNs = DefaultTimeoutNs;
        }
        Wait(timeoutNs);
    }

    /// <summary>wait_event_freezable_timeout: asleep, woken by the timeout (none when proactiveness is 0) or by wakeup_kcompactd.</summary>
    private void Wait(long timeoutNs)
    {
        _running = false;
        _waitGeneration++;
        if (Proactiveness != 0) _clock.AddTimer(_clock.NowNs + timeoutNs, TimerKind.KcompactdTimeout, _waitGeneration);
    }

    private void Run(Action body)
    {
        _running = true;
        _scheduler.RunWoken(new SimTask(KcompactdTaskId, _scheduler.Cpus - 1, "kcompactd0", () =>
        {
            using var _ = _scheduler.Current.Path.Enter("kcompactd");
            body();
        })
        {
            Flags = PF.Kthread,
        });
    }

    /// <summary>kcompactd_node_suitable: some zone up to the highest asked for is suitable for compaction at the order asked for.</summary>
    private bool KcompactdNodeSuitable()
    {
        for (int i = 0; i <= _highestZoneidx && i < _node.Zones.Count; i++)
            if (_compactor.Value.CompactionSuitable(_node.Zones[i], _maxOrder, 0, _highestZoneidx) == CompactResultCode.Continue) return true;
        return false;
    }

    /// <summary>
    /// kcompactd_do_work (6.1): compact_daemon_wake; each zone up to the highest asked for that is neither deferred nor
    /// unsuitable is compacted (order asked for, SYNC_LIGHT, GFP_KERNEL, skip hints honoured, one compact_control for
    /// every zone: a whole_zone run leaves the next zone's run whole too); SUCCESS resets the
    /// deferral, COMPLETE or PARTIAL_SKIPPED drains every CPU's per-cpu lists of the zone and defers; the pages scanned
    /// are counted as compact_daemon_*_scanned too. Then the request is forgotten unless a higher one came meanwhile.
    /// A memory stall: kcompactd() wraps each call, made only when work was asked for, in psi_memstall_enter/leave (its
    /// proactive compaction is not one).
    /// </summary>
    [Preemptible]
    private void KcompactdDoWork()
    {
        using var _ = _scheduler.Current.Path.Enter("kcompactd_do_work");
        using var stall = _scheduler.Psi.Memstall();
        int order = _maxOrder, highest = _highestZoneidx;
        _vmstat.Count(VmEvent.CompactDaemonWake);
        var cc = new CompactControl(_lists, _node.Zones[0], order, Gfp.Kernel, MigrateMode.SyncLight, ignoreSkipHint: false)
        {
            HighestZoneidx = highest,
        };
        for (int i = 0; i <= highest && i < _node.Zones.Count; i++)
        {
            var zone = _node.Zones[i];
            if (_deferral.CompactionDeferred(zone, order)) continue;
            if (_compactor.Value.CompactionSuitable(zone, order, 0, i) != CompactResultCode.Continue) continue;
            cc.Zone = zone;
            var status = _compactor.Value.CompactZone(cc);
            if (status == CompactResultCode.Success) _deferral.CompactionDeferReset(zone, order, allocSuccess: false);
            else if (status is CompactResultCode.PartialSkipped or CompactResultCode.Complete)
            {
                if (_pcp is not null) _pcp.DrainAllPages(_buddy, zone);
                _deferral.DeferCompaction(zone, order);
            }
            _vmstat.Count(VmEvent.CompactDaemonMigrateScanned, cc.TotalMigrateScanned);
            _vmstat.Count(VmEvent.CompactDaemonFreeScanned, cc.TotalFreeScanned);
        }
        _compactor.Value.Release(cc);
        if (_maxOrder <= order) _maxOrder = 0;
        if (_highestZoneidx >= highest) _highestZoneidx = _node.Zones.Count - 1;
    }

    /// <summary>should_proactive_compact_node: proactiveness on, kswapd not running, the node's score above the high mark.</summary>
    private bool ShouldProactiveCompactNode() =>
        Proactiveness != 0 && !_reclaim.Value.KswapdRunning && FragmentationScoreNode(_node) > FragmentationScoreWmark(Proactiveness, low: false);

    /// <summary>
    /// proactive_compact_node: every zone, order -1, SYNC_LIGHT, skip hints ignored, whole zone, GFP_KERNEL, proactive;
    /// one compact_control.
    /// </summary>
    [Preemptible]
    private void ProactiveCompactNode()
    {
        using var _ = _scheduler.Current.Path.Enter("proactive_compact_node");
        var cc = new CompactControl(_lists, _node.Zones[0], -1, Gfp.Kernel, MigrateMode.SyncLight, ignoreSkipHint: true)
        {
            WholeZone = true, ProactiveCompaction = true,
        };
        foreach (var zone in _node.Zones)
        {
            cc.Zone = zone;
            _compactor.Value.CompactZone(cc);
        }
        _compactor.Value.Release(cc);
    }

    /// <summary>fragmentation_score_zone: extfrag_for_order(zone, COMPACTION_HPAGE_ORDER), 0–100.</summary>
    public static int FragmentationScoreZone(Zone zone) => Fragmentation.ExtfragForOrder(zone, CompactionHpageOrder);

    /// <summary>fragmentation_score_node: Σ over zones of present pages × the zone's score / (the node's present pages + 1).</summary>
    public static int FragmentationScoreNode(Node node)
    {
        long nodePresent = node.Zones.Sum(z => (long)z.SpannedPages);
        return (int)node.Zones.Sum(z => z.SpannedPages * (long)FragmentationScoreZone(z) / (nodePresent + 1));
    }

    /// <summary>fragmentation_score_wmark: low = max(100 − proactiveness, 5), high = min(low + 10, 100).</summary>
    public static int FragmentationScoreWmark(int proactiveness, bool low)
    {
        int wmarkLow = Math.Max(100 - proactiveness, 5);
        return low ? wmarkLow : Math.Min(wmarkLow + 10, 100);
    }
}
