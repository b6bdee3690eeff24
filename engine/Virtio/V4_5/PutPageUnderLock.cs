using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V4_5;

/// <summary>
/// v4.5 virtio_balloon.c: release_pages_balloon ("virtio_balloon: fix race by fill and leak", f68b992) puts each
/// page before leak_balloon drops balloon_lock, so no virtballoon_migratepage can rewrite vb-&gt;pfns first.
/// virtballoon_migratepage is v3.18's (and stays so in v4.8): get_page(newpage), put_page(page) after the unlock.
/// </summary>
[KernelPart("driver release", PartVersion.V4_5)]
internal sealed partial class PutPageUnderLock(PageRefs refs, Lru lru) : IDriverRelease
{
    public bool UnderBalloonLock => true;

    public bool AdjustsAfterRelease => false;

    [Preemptible]
    public void Release(int page) => lru.PutPage(page);

    public void MigratepageTakesNewpage(int newpage) => refs.GetPage(newpage);

    [Preemptible]
    public int MigratepageFinish(int page)
    {
        lru.PutPage(page);
        return MigrateRc.Success;
    }
}
