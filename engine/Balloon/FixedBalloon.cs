using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The v3.18 design with Minchan Kim's December 2015 pair, merged for v4.5 (TROVON v4.6
/// balloon_compaction.c and virtio_balloon.c): "virtio_balloon: fix race between migration and ballooning"
/// holds pages_lock across the whole dequeue walk, so isolation (which needs pages_lock) cannot change the
/// list under the iterator; "virtio_balloon: fix race by fill and leak" (f68b992) releases the dequeued
/// pages before leak_balloon drops balloon_lock. It also carries David Hildenbrand's 2019 stable fix
/// ("mm: migrate: don't rely on __PageMovable() of newpage after unlocking it", for 3.12–4.7 kernels):
/// unmap_and_move decides newpage's fate from the old page's state saved before migration, not from
/// newpage after balloon_page_migrate unlocked it (the driver may already have dequeued it).
/// </summary>
internal sealed class FixedBalloon(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock, BuddyAllocator buddy,
    Node node, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler)
    : RedesignBalloon(dev, pages, lists, pageLock, buddy, node, vmstat, sanitizer, scheduler)
{
    public override bool ReleaseUnderBalloonLock => true;

    /// <summary>2019 fix: <c>is_lru = !isolated_balloon_page(page)</c>, saved before migration.</summary>
    public override bool SaveIsBalloonPage(int page) => Pages.PageBalloon(page);

    /// <summary>2019 fix: <c>if (!is_lru) put_page(newpage)</c>.</summary>
    public override bool NewPageIsBalloon(int newpage, bool saved) => saved;

    /// <summary>balloon_page_dequeue (v4.5): the walk under pages_lock; only trylock_page inside it.</summary>
    protected override int DequeueWalk()
    {
        Dev.PagesLock.Lock();
        int page = base.DequeueWalk();
        Dev.PagesLock.Unlock();
        return page;
    }

    protected override void LockPagesForDelete() { }

    protected override void UnlockPagesForDelete() { }
}
