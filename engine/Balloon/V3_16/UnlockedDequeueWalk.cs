using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_16;

/// <summary>
/// balloon_page_dequeue (v3.8–v3.16, TROVON v3.16 balloon_compaction.c): the walk runs without pages_lock and
/// only trylocks each page; a locked page is taken with an extra <c>get_page</c> (so a racing isolation sees
/// <c>_count</c> ≥ 3 and backs off) and deleted under pages_lock. Nothing asks whether compaction has already
/// isolated the page (defect 4).
/// </summary>
[KernelPart("dequeue walk", PartVersion.V3_16)]
internal sealed partial class UnlockedDequeueWalk(BalloonListWalk walk, BalloonDevInfo dev, PageLock pageLock, PageRefs refs) : IDequeueWalk
{
    [Preemptible]
    public int Dequeue() => walk.Walk(this, static (self, page) => self.TryDequeue(page));

    /// <summary>One page of the walk: trylock_page, then get_page and balloon_page_delete under pages_lock.</summary>
    [Preemptible]
    private bool TryDequeue(int page)
    {
        if (!pageLock.TryLock(page)) return false;
        dev.PagesLock.Lock();
        refs.GetPage(page);
        walk.Delete(page);
        dev.PagesLock.Unlock();
        pageLock.Unlock(page);
        return true;
    }
}
