using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Balloon.V4_5;

/// <summary>
/// balloon_page_dequeue (v4.5, Minchan Kim's "virtio_balloon: fix race between migration and ballooning";
/// TROVON v4.6 balloon_compaction.c): the whole walk runs under pages_lock, which isolation also needs, so the
/// list cannot change under the iterator; inside it only <c>trylock_page</c>, the PG_private test and the delete.
/// </summary>
[KernelPart("dequeue walk", PartVersion.V4_5)]
internal sealed class LockedDequeueWalk(BalloonListWalk walk, BalloonDevInfo dev, PageTable pages, PageLock pageLock) : IDequeueWalk
{
    public int Dequeue()
    {
        dev.PagesLock.Lock();
        int taken = walk.Walk(page =>
        {
            if (!pageLock.TryLock(page)) return false;
            bool listed = pages.PagePrivate(page); // no PG_private: raced with isolation, skip it
            if (listed) walk.Delete(page);
            pageLock.Unlock(page);
            return listed;
        });
        dev.PagesLock.Unlock();
        return taken;
    }
}
