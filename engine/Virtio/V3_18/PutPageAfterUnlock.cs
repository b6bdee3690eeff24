using BalloonScript.Engine.Designs;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Virtio.V3_18;

/// <summary>release_pages_by_pfn (v3.18): after balloon_lock is dropped, put_page drops the balloon's reference.</summary>
[KernelPart("driver release", PartVersion.V3_18)]
internal sealed class PutPageAfterUnlock(IBuddyAllocator buddy) : IDriverRelease
{
    public bool UnderBalloonLock => false;

    public void Release(int page) => buddy.PutPage(page);
}
