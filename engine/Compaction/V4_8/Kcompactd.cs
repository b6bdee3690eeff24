using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Compaction.V4_8;

/// <summary>
/// kcompactd0, the node's compaction thread (v4.6 "mm, compaction: introduce kcompactd"; v4.8 mm/compaction.c, TROVON
/// v4.8): asleep until kswapd, balanced and about to nap (v4.8 <c>kswapd_try_to_sleep</c>: <c>reset_isolation_suitable</c>
/// then <c>wakeup_kcompactd</c>), asks for a high order; then <c>kcompactd_do_work</c> compacts each zone up to the
/// classzone that is not deferred and where compaction is suitable, synchronously (MIGRATE_SYNC_LIGHT) and ignoring
/// the skip bits, and defers the zones it could not help. kswapd no longer compacts. The thread runs as a kernel path
/// of its own, woken on the simulated clock by kswapd's path (nested in it when running to completion).
/// </summary>
[KernelPart("background compaction", PartVersion.V4_8)]
internal sealed partial class Kcompactd(Node node, ICompaction compaction, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler)
    : IBackgroundCompaction, ISnapshotState
{
    /// <summary>The task id kcompactd0 runs under (apart from the scenario tasks, which count up from 0).</summary>
    private const int KcompactdTaskId = 1 << 21;

    private int _maxOrder;                                // pgdat->kcompactd_max_order
    private int _classzoneIdx = node.Zones.Count - 1;     // pgdat->kcompactd_classzone_idx
    [NotState("true only from a wake-up until the thread waits again, inside an operation")]
    private bool _awake;

    public object Save() => (_maxOrder, _classzoneIdx);

    public void Restore(object saved) => (_maxOrder, _classzoneIdx) = ((int, int))saved;

    /// <summary>v4.8 balance_pgdat does not compact.</summary>
    public void AfterReclaim(int order) { }

    /// <summary>
    /// kswapd_try_to_sleep (v4.8), the node balanced: reset_isolation_suitable, then wakeup_kcompactd for alloc_order.
    /// The design's kswapd loop is v3.16's, so the choice v4.8's kswapd() makes is made here: kcompactd keeps the order
    /// kswapd was woken for only when balance_pgdat fell back to a lower one ("kcompactd is woken to compact for the
    /// original request"); balanced at that order, alloc_order becomes the order recorded since, and none is recorded
    /// while kswapd runs here (it runs to its nap nested in its waker, or after a switching run).
    /// </summary>
    [Preemptible]
    public void BeforeNap(int order, int reclaimOrder, int classzoneIdx)
    {
        compaction.ResetIsolationSuitable();
        WakeupKcompactd(reclaimOrder < order ? order : 0, classzoneIdx);
    }

    /// <summary>v4.8 kswapd cleared the skip bits before its nap already.</summary>
    public void BeforeSleep() { }

    /// <summary>
    /// wakeup_kcompactd (v4.8): nothing for order 0; raise the order asked for and lower the classzone; wake the thread
    /// only if it is waiting and some zone up to the classzone is suitable for compaction at that order.
    /// </summary>
    public void WakeupKcompactd(int order, int classzoneIdx)
    {
        if (order == 0) return;
        _maxOrder = Math.Max(_maxOrder, order);
        _classzoneIdx = Math.Min(_classzoneIdx, classzoneIdx);
        if (_awake || !NodeSuitable()) return;
        _awake = true;
        scheduler.RunWoken(new SimTask(KcompactdTaskId, scheduler.Cpus - 1, "kcompactd0", Run) { Flags = PF.Kthread });
    }

    /// <summary>The kcompactd loop from a wake-up: kcompactd_do_work while kcompactd_work_requested (an order was asked for meanwhile).</summary>
    [Preemptible]
    private void Run()
    {
        using var _ = scheduler.Current.Path.Enter("kcompactd");
        try
        {
            do DoWork(); while (_maxOrder > 0);
        }
        finally
        {
            _awake = false;
        }
    }

    /// <summary>kcompactd_node_suitable (v4.8): some zone up to the classzone where compaction_suitable says COMPACT_CONTINUE.</summary>
    private bool NodeSuitable()
    {
        for (int z = 0; z <= _classzoneIdx && z < node.Zones.Count; z++)
            if (compaction.CompactionSuitable(node.Zones[z], _maxOrder) == CompactStatus.Continue) return true;
        return false;
    }

    /// <summary>
    /// kcompactd_do_work (v4.8): compact_daemon_wake; for each zone up to the classzone, skip it if compaction is
    /// deferred or not suitable there, else compact_zone (order, MIGRATE_SYNC_LIGHT, ignore_skip_hint, the migratetype
    /// of gfp 0: UNMOVABLE; one compact_control for every zone); a zone that now meets the low watermark at the order
    /// has its deferral reset (not the allocation-success reset), one whose scanners met is deferred. Then the request
    /// is forgotten unless a higher one came meanwhile.
    /// </summary>
    [Preemptible]
    private void DoWork()
    {
        using var _ = scheduler.Current.Path.Enter("kcompactd_do_work");
        int order = _maxOrder, classzoneIdx = _classzoneIdx;
        vmstat.Count(VmEvent.CompactDaemonWake);
        var cc = compaction.NewControl(node.Zones[0], order, MigrateType.Unmovable, MigrateMode.SyncLight, ignoreSkipHint: true);
        for (int z = 0; z <= classzoneIdx && z < node.Zones.Count; z++)
        {
            var zone = node.Zones[z];
            if (compaction.CompactionDeferred(zone, order)) continue;
            if (compaction.CompactionSuitable(zone, order) != CompactStatus.Continue) continue;
            cc.Zone = zone;
            var status = compaction.CompactZone(cc);
            if (buddy.ZoneWatermarkOk(zone, order, zone.Watermark[Zone.WmarkLow], classzoneIdx, 0))
                compaction.CompactionDeferReset(zone, order, allocSuccess: false);
            else if (status == CompactStatus.Complete)
                compaction.DeferCompaction(zone, order);
        }
        compaction.Release(cc);
        if (_maxOrder <= order) _maxOrder = 0;
        if (_classzoneIdx >= classzoneIdx) _classzoneIdx = node.Zones.Count - 1;
    }
}
