using BalloonScript.Engine.Designs;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// Reclaim for designs that do not model it: there is no kswapd to wake and direct reclaim frees nothing.
/// docs/model.md says what the allocator's slow path does instead.
/// </summary>
[KernelPart("reclaim", PartVersion.NotModelled)]
internal sealed class ReclaimNotModelled : IReclaim
{
    public void WakeAllKswapds(int order) { }

    public long TryToFreePages(int order, Gfp gfp) => 0;
}
