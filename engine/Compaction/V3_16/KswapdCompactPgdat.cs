using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// kswapd's own compaction (v3.16 mm/vmscan.c): <c>balance_pgdat</c> calls <c>compact_pgdat</c> (asynchronous) after
/// a round that reclaimed for a high order, and <c>kswapd_try_to_sleep</c> calls <c>reset_isolation_suitable</c> once
/// the node is still balanced after the nap. Nothing happens before the nap.
/// </summary>
[KernelPart("background compaction", PartVersion.V3_16)]
internal sealed partial class KswapdCompactPgdat(ICompaction compaction) : IBackgroundCompaction
{
    [Preemptible]
    public void AfterReclaim(int order) => compaction.CompactPgdat(order);

    public void BeforeNap(int order, int reclaimOrder, int classzoneIdx) { }

    [Preemptible]
    public void BeforeSleep() => compaction.ResetIsolationSuitable();
}
