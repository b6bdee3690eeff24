using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// The node's reclaim state of 6.1: <c>pgdat-&gt;kswapd_failures</c> (balance_pgdat runs that reclaimed nothing since
/// reclaim last made progress; at MAX_RECLAIM_RETRIES kswapd leaves the node to direct reclaim) and the lruvec's
/// <c>anon_cost</c> / <c>file_cost</c> (lru_note_cost), and the wait queues of <c>pgdat-&gt;reclaim_wait[]</c> that someone
/// wakes before their timeout here: WRITEBACK and ISOLATED (NOPROGRESS's waker, a direct reclaimer of over 12 % efficiency
/// in consider_reclaim_throttle, cannot run within its sleeper's one jiffy in this model; CONGESTED has none).
/// The pgdat flags are <see cref="Mm.Node.PgdatFlags"/>.
/// </summary>
internal sealed partial class NodeReclaimState(Mm.Node node) : ISnapshotState, Mm.IReclaimWritebackAccounting
{
    /// <summary>MAX_RECLAIM_RETRIES.</summary>
    public const int MaxReclaimRetries = 16;

    /// <summary>SWAP_CLUSTER_MAX.</summary>
    private const int SwapClusterMax = 32;

    public int KswapdFailures { get; set; }
    public long AnonCost { get; set; }
    public long FileCost { get; set; }

    /// <summary><c>pgdat-&gt;nr_writeback_throttled</c>: reclaimers asleep in reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK).</summary>
    public int NrWritebackThrottled { get; private set; }

    /// <summary><c>pgdat-&gt;nr_reclaim_start</c>: NR_THROTTLED_WRITTEN when the first of them went to sleep.</summary>
    private long _nrReclaimStart;

    /// <summary>NR_THROTTLED_WRITTEN (a node stat): pages whose writeback ended while some reclaimer was throttled on it.</summary>
    public long ThrottledWritten { get; private set; }

    /// <summary><c>reclaim_wait[VMSCAN_THROTTLE_WRITEBACK]</c>: woken by <see cref="AcctReclaimWriteback"/>.</summary>
    private readonly ReclaimWaitQueue _writeback = new();

    /// <summary>
    /// <c>reclaim_wait[VMSCAN_THROTTLE_ISOLATED]</c>: woken (wake_throttle_isolated) where too_many_isolated — reclaim's
    /// (not kswapd's: it returns before) or compaction's — finds the isolated pages no longer too many.
    /// </summary>
    public ReclaimWaitQueue Isolated { get; } = new();

    /// <summary>Where reclaim_throttle(VMSCAN_THROTTLE_ISOLATED) sleeps, in a trace.</summary>
    public const string IsolatedThrottlePoint = "reclaim_throttle(ISOLATED)";

    /// <summary>reclaim_throttle(VMSCAN_THROTTLE_ISOLATED)'s timeout: HZ/50.</summary>
    public static long IsolatedThrottleJiffies(Time.SimClock clock) => clock.Hz / 50;

    /// <summary>
    /// reclaim_throttle(VMSCAN_THROTTLE_ISOLATED)'s sleep (6.1 mm/vmscan.c), for reclaim and compaction alike: HZ/50 on
    /// the ISOLATED queue, ended early by its wake-up.
    /// </summary>
    [Preemptible]
    public void SleepThrottledIsolated(Time.SimClock clock) => Isolated.Sleep(clock, IsolatedThrottleJiffies(clock), IsolatedThrottlePoint);

    /// <summary>
    /// lru_note_cost (6.1 mm/swap.c): add <paramref name="nrPages"/> to the type's cost, and halve both costs once they
    /// exceed a quarter of the LRU pages (a floating average), under the lruvec's lru_lock.
    /// </summary>
    [Preemptible]
    public void LruNoteCost(bool file, long nrPages)
    {
        var lruLock = node.Zones[0].LruLock;
        lruLock.Lock();
        if (file) FileCost += nrPages;
        else AnonCost += nrPages;
        long lrusize = 0;
        for (int l = Mm.Zone.LruInactiveAnon; l <= Mm.Zone.LruActiveFile; l++) lrusize += node.GlobalStat(Vmstat.ZoneStat.NrInactiveAnon + l);
        if (FileCost + AnonCost > lrusize / 4)
        {
            FileCost /= 2;
            AnonCost /= 2;
        }
        lruLock.Unlock();
    }

    /// <summary>kswapd_failures ≥ MAX_RECLAIM_RETRIES: a hopeless node.</summary>
    public bool Hopeless => KswapdFailures >= MaxReclaimRetries;

    /// <summary>
    /// reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)'s sleep (6.1 mm/vmscan.c): one more throttled (the first records where
    /// NR_THROTTLED_WRITTEN stands), HZ/10 on the WRITEBACK queue, ended early by <see cref="AcctReclaimWriteback"/>,
    /// then atomic_dec(&amp;pgdat-&gt;nr_writeback_throttled).
    /// </summary>
    [Preemptible]
    public void SleepThrottledWriteback(Time.SimClock clock, string where)
    {
        if (++NrWritebackThrottled == 1) _nrReclaimStart = ThrottledWritten;
        _writeback.Sleep(clock, clock.Hz / 10, where);
        NrWritebackThrottled--;
    }

    /// <summary>
    /// __acct_reclaim_writeback (6.1 mm/vmscan.c): with reclaimers throttled, count the page in NR_THROTTLED_WRITTEN and
    /// wake them once more than SWAP_CLUSTER_MAX pages per throttled reclaimer were written since the first slept.
    /// </summary>
    public void AcctReclaimWriteback()
    {
        if (NrWritebackThrottled == 0) return;
        ThrottledWritten++;
        if (ThrottledWritten - _nrReclaimStart > SwapClusterMax * NrWritebackThrottled) _writeback.WakeUp();
    }

    public object Save() =>
        (KswapdFailures, AnonCost, FileCost, NrWritebackThrottled, _nrReclaimStart, ThrottledWritten,
            _writeback.Save(), Isolated.Save());

    public void Restore(object saved)
    {
        var (failures, anon, file, throttled, start, written, writeback, isolated) =
            ((int, long, long, int, long, long, (int, long), (int, long)))saved;
        (KswapdFailures, AnonCost, FileCost) = (failures, anon, file);
        (NrWritebackThrottled, _nrReclaimStart, ThrottledWritten) = (throttled, start, written);
        _writeback.Restore(writeback);
        Isolated.Restore(isolated);
    }
}
