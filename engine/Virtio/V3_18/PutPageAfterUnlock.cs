using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Virtio.V3_18;

/// <summary>
/// release_pages_by_pfn (v3.18): after balloon_lock is dropped, put_page drops the balloon's reference (the LRU-aware
/// put_page: a page some race put on an LRU list comes off it before it is freed, __page_cache_release).
/// </summary>
[KernelPart("driver release", PartVersion.V3_18)]
internal sealed class PutPageAfterUnlock(Lru lru) : IDriverRelease
{
    public bool UnderBalloonLock => false;

    public void Release(int page) => lru.PutPage(page);
}
