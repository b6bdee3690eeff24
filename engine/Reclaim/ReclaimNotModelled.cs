using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// Reclaim for simulations that leave it out (<see cref="SimulationOptions.Reclaim"/> off): there is no kswapd to
/// wake, direct reclaim frees nothing, nobody is killed. docs/model.md says what the allocator's slow path does then.
/// </summary>
[KernelPart("reclaim", PartVersion.NotModelled)]
internal sealed class ReclaimNotModelled : IReclaim
{
    public bool Modelled => false;

    public bool KswapdRunning => false;

    public bool NodeUnreclaimable => false;

    public void WakeAllKswapds(int order, Gfp gfp) { }

    public void WakeupKswapd(Zone zone, int order, Gfp gfp) { }

    public long TryToFreePages(int order, Gfp gfp) => 0;

    public bool OutOfMemory(Gfp gfp, int order) => false;
}
