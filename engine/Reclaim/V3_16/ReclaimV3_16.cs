using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// Reclaim of v3.16 as the page allocator calls it: wake_all_kswapds (<see cref="Kswapd"/>), try_to_free_pages
/// (<see cref="DirectReclaim"/>), out_of_memory (<see cref="OomKiller"/>).
/// </summary>
[KernelPart("reclaim", PartVersion.V3_16)]
internal sealed class ReclaimV3_16(Node node, Kswapd kswapd, DirectReclaim direct, OomKiller oom) : IReclaim
{
    public bool Modelled => true;

    public bool KswapdRunning => kswapd.StateName == "running";

    public bool NodeUnreclaimable => false;

    /// <summary>wake_all_kswapds (v3.16): every zone of the zonelist, with the preferred (highest) zone as classzone.</summary>
    public void WakeAllKswapds(int order, Gfp gfp)
    {
        int classzone = node.HighestZone.Index;
        for (int i = node.Zones.Count - 1; i >= 0; i--) kswapd.WakeupKswapd(node.Zones[i], order, classzone);
    }

    public long TryToFreePages(int order, Gfp gfp) => direct.TryToFreePages(order, gfp);

    public bool OutOfMemory(Gfp gfp, int order) => oom.OutOfMemory(gfp, order);
}
