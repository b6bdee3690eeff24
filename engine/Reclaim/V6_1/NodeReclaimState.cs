using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// The node's reclaim state of 6.1: <c>pgdat-&gt;kswapd_failures</c> (balance_pgdat runs that reclaimed nothing since
/// reclaim last made progress; at MAX_RECLAIM_RETRIES kswapd leaves the node to direct reclaim) and the lruvec's
/// <c>anon_cost</c> / <c>file_cost</c> (lru_note_cost). The pgdat flags are <see cref="Mm.Node.PgdatFlags"/>.
/// </summary>
internal sealed class NodeReclaimState : ISnapshotState
{
    /// <summary>MAX_RECLAIM_RETRIES.</summary>
    public const int MaxReclaimRetries = 16;

    public int KswapdFailures { get; set; }
    public long AnonCost { get; set; }
    public long FileCost { get; set; }

    /// <summary>kswapd_failures ≥ MAX_RECLAIM_RETRIES: a hopeless node.</summary>
    public bool Hopeless => KswapdFailures >= MaxReclaimRetries;

    public object Save() => (KswapdFailures, AnonCost, FileCost);

    public void Restore(object saved)
    {
        var (failures, anon, file) = ((int, long, long))saved;
        (KswapdFailures, AnonCost, FileCost) = (failures, anon, file);
    }
}
