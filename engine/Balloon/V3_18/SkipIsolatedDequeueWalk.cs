using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_18;

/// <summary>
/// balloon_page_dequeue (d6d86c0, v3.18 with CONFIG_BALLOON_COMPACTION): after winning the trylock, a page
/// without PG_private has been isolated by compaction ("raced with isolation") and is skipped; no extra
/// reference is taken. The walk itself still runs without pages_lock, so the next entry it saved can be
/// isolated under it (the residual race fixed in v4.5).
/// </summary>
[KernelPart("dequeue walk", PartVersion.V3_18)]
internal sealed partial class SkipIsolatedDequeueWalk(BalloonListWalk walk, BalloonDevInfo dev, PageTable pages, PageLock pageLock) : IDequeueWalk
{
    [Preemptible]
    public int Dequeue() => walk.Walk(this, static (self, page) => self.TryDequeue(page));

    /// <summary>One page of the walk: trylock_page, skip a page without PG_private, else balloon_page_delete under pages_lock.</summary>
    [Preemptible]
    private bool TryDequeue(int page)
    {
        if (!pageLock.TryLock(page)) return false;
        if (!pages.PagePrivate(page))
        {
            pageLock.Unlock(page);
            return false;
        }
        dev.PagesLock.Lock();
        walk.Delete(page);
        dev.PagesLock.Unlock();
        pageLock.Unlock(page);
        return true;
    }
}
