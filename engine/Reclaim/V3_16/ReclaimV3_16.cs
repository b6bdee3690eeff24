using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// Reclaim of v3.16 as the page allocator calls it: wake_all_kswapds (<see cref="Kswapd"/>), try_to_free_pages
/// (<see cref="DirectReclaim"/>), out_of_memory (<see cref="OomKiller"/>).
/// </summary>
[KernelPart("reclaim", PartVersion.V3_16)]
internal sealed partial class ReclaimV3_16(Node node, Kswapd kswapd, DirectReclaim direct, OomKiller oom) : IReclaim
{
    public bool Modelled => true;

    public bool KswapdRunning => kswapd.StateName == "running";

    public bool NodeUnreclaimable => false;

    /// <summary>
    /// wake_all_kswapds (v3.16): wakeup_kswapd for each zone of the zonelist, highest first, with the preferred (highest)
    /// zone as classzone. Once one has woken kswapd, the others find it off its wait queue and return (their order and
    /// classzone are the ones just recorded), however fast it runs: a run to completion runs kswapd nested in the first
    /// wake-up, so the zones after it are not asked again, or a kswapd back in its nap would be woken twice by one call.
    /// </summary>
    public void WakeAllKswapds(int order, Gfp gfp)
    {
        int classzone = node.HighestZone.Index;
        for (int i = node.Zones.Count - 1; i >= 0; i--)
            if (kswapd.WakeupKswapd(node.Zones[i], order, classzone)) return;
    }

    /// <summary>wakeup_kswapd (v3.16) for one zone, with that zone as classzone.</summary>
    public void WakeupKswapd(Zone zone, int order, Gfp gfp) => kswapd.WakeupKswapd(zone, order, zone.Index);

    [Preemptible]
    public long TryToFreePages(int order, Gfp gfp) => direct.TryToFreePages(order, gfp);

    [Preemptible]
    public bool OutOfMemory(Gfp gfp, int order) => oom.OutOfMemory(gfp, order);
}
