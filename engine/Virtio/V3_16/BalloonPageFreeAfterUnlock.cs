using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V3_16;

/// <summary>
/// v3.16 virtio_balloon.c: release_pages_by_pfn calls balloon_page_free on each page after balloon_lock is dropped;
/// virtballoon_migratepage takes no reference on newpage and leaves the old page to unmap_and_move
/// (MIGRATEPAGE_BALLOON_SUCCESS).
/// </summary>
[KernelPart("driver release", PartVersion.V3_16)]
internal sealed partial class BalloonPageFreeAfterUnlock(BalloonPageOps balloon) : IDriverRelease
{
    public bool UnderBalloonLock => false;

    public bool AdjustsAfterRelease => true;

    [Preemptible]
    public void Release(int page) => balloon.BalloonPageFree(page);

    /// <summary>virtballoon_migratepage (v3.16) takes no reference on newpage: it keeps its allocation reference.</summary>
    public void MigratepageTakesNewpage(int newpage) { }

    /// <summary>virtballoon_migratepage (v3.16) returns MIGRATEPAGE_BALLOON_SUCCESS; the old page keeps its references for unmap_and_move.</summary>
    public int MigratepageFinish(int page) => MigrateRc.BalloonSuccess;
}
