using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V3_18;

/// <summary>
/// v3.18 virtio_balloon.c (d6d86c0): release_pages_by_pfn drops the balloon's reference with put_page after
/// balloon_lock is dropped (the LRU-aware put_page: a page some race put on an LRU list comes off it before it is
/// freed, __page_cache_release); virtballoon_migratepage takes the balloon's reference on newpage and drops the old
/// page's after unlocking balloon_lock.
/// </summary>
[KernelPart("driver release", PartVersion.V3_18)]
internal sealed partial class PutPageAfterUnlock(PageRefs refs, Lru lru) : IDriverRelease
{
    public bool UnderBalloonLock => false;

    public bool AdjustsAfterRelease => false;

    [Preemptible]
    public void Release(int page) => lru.PutPage(page);

    /// <summary>virtballoon_migratepage (v3.18): get_page(newpage), the balloon's reference on it.</summary>
    public void MigratepageTakesNewpage(int newpage) => refs.GetPage(newpage);

    /// <summary>virtballoon_migratepage (v3.18): put_page(page) (the balloon's reference) after balloon_lock is dropped; MIGRATEPAGE_SUCCESS.</summary>
    [Preemptible]
    public int MigratepageFinish(int page)
    {
        lru.PutPage(page);
        return MigrateRc.Success;
    }
}
