using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Virtio.V4_5;

/// <summary>
/// release_pages_balloon (v4.5, "virtio_balloon: fix race by fill and leak", f68b992): put_page on each page
/// before leak_balloon drops balloon_lock, so no virtballoon_migratepage can rewrite vb-&gt;pfns first.
/// </summary>
[KernelPart("driver release", PartVersion.V4_5)]
internal sealed class PutPageUnderLock(Lru lru) : IDriverRelease
{
    public bool UnderBalloonLock => true;

    public void Release(int page) => lru.PutPage(page);
}
