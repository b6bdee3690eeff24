using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Virtio.V3_16;

/// <summary>release_pages_by_pfn (v3.16): after balloon_lock is dropped, balloon_page_free on each page.</summary>
[KernelPart("driver release", PartVersion.V3_16)]
internal sealed class BalloonPageFreeAfterUnlock(BalloonCompaction balloon) : IDriverRelease
{
    public bool UnderBalloonLock => false;

    public void Release(int page) => balloon.BalloonPageFree(page);
}
