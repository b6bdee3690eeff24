using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// Reclaim of 6.1 as the page allocator calls it: wake_all_kswapds (<see cref="Kswapd"/>), try_to_free_pages
/// (<see cref="DirectReclaim"/>), out_of_memory (<see cref="OomKiller"/>).
/// </summary>
[KernelPart("reclaim", PartVersion.V6_1)]
internal sealed partial class ReclaimV6_1(Kswapd kswapd, DirectReclaim direct, OomKiller oom, NodeReclaimState state) : IReclaim
{
    public bool Modelled => true;

    public bool KswapdRunning => kswapd.Running;

    public bool NodeUnreclaimable => state.Hopeless;

    /// <summary>wake_all_kswapds (6.1): once per node, with the request's highest zone (gfp_zone).</summary>
    public void WakeAllKswapds(int order, Gfp gfp) => kswapd.WakeupKswapd(order, gfp.ZoneIdx(), gfp);

    public void WakeupKswapd(Zone zone, int order, Gfp gfp) => kswapd.WakeupKswapd(order, zone.Index, gfp);

    [Preemptible]
    public long TryToFreePages(int order, Gfp gfp) => direct.TryToFreePages(order, gfp);

    [Preemptible]
    public bool OutOfMemory(Gfp gfp, int order) => oom.OutOfMemory(gfp, order);
}
