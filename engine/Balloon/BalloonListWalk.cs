using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// What every version's <c>balloon_page_dequeue</c> walk shares: <c>list_for_each_entry_safe</c> over the
/// balloon list (the next entry is read before the current one is tried, a preemption point), the list-debug
/// view of a walk that leaves the list, and the delete that ends a successful try.
/// </summary>
internal sealed partial class BalloonListWalk(BalloonDevInfo dev, PageTable pages, PageLists lists, PageLock pageLock,
    IBalloonPageIdentity identity, VmStat vmstat, Sanitizer sanitizer, Scheduler scheduler)
{
    /// <summary>
    /// Walk the balloon list from its head, offering each page to <paramref name="tryDequeue"/> (with
    /// <paramref name="state"/>: a static lambda and a value for state allocate nothing per page); the page it took, or -1.
    /// </summary>
    [Preemptible]
    public int Walk<TState>(TState state, [Preemptible] Func<TState, int, bool> tryDequeue)
    {
        int head = dev.Pages;
        int page = lists.Next(head), from = head;
        for (int steps = 0; page != head; steps++)
        {
            if (!OnWalkablePage(page, from, steps)) return -1;
            int next = lists.Next(page);
            scheduler.Preempt("balloon_page_dequeue: next entry read");
            if (tryDequeue(state, page)) return page;
            (from, page) = (page, next);
        }
        return -1;
    }

    /// <summary>
    /// The walk as Minchan Kim's v4.5 fix ("virtio_balloon: fix race between migration and ballooning") left it, and
    /// v4.8 kept it: the whole walk under pages_lock, which isolation also needs, so the list cannot change under the
    /// iterator; a page is taken if <c>trylock_page</c> succeeds and the version's "raced with isolation" test
    /// (<paramref name="racedWithIsolation"/>) says no, and deleted under its page lock.
    /// </summary>
    [Preemptible]
    public int LockedWalk(Func<int, bool> racedWithIsolation)
    {
        dev.PagesLock.Lock();
        int taken = Walk((Walk: this, Raced: racedWithIsolation), static (s, page) => s.Walk.TryDequeueLocked(page, s.Raced));
        dev.PagesLock.Unlock();
        return taken;
    }

    [Preemptible]
    private bool TryDequeueLocked(int page, Func<int, bool> racedWithIsolation)
    {
        if (!pageLock.TryLock(page)) return false;
        bool listed = !racedWithIsolation(page);
        if (listed) Delete(page);
        pageLock.Unlock(page);
        return listed;
    }

    /// <summary>balloon_page_delete of the page dequeue took, counted as a balloon_deflate event (v3.18 name).</summary>
    public void Delete(int page)
    {
        identity.Delete(page);
        vmstat.Count(VmEvent.BalloonDeflate);
    }

    /// <summary>
    /// The dequeue cursor must be a page: a poisoned link is the general protection fault of Minchan Kim's
    /// 2015 report, a list head other than the balloon's means the walk left the balloon list.
    /// <paramref name="from"/> is the entry whose <c>lru.next</c> led here.
    /// </summary>
    private bool OnWalkablePage(int node, int from, int steps)
    {
        if (!PageLists.IsPoison(node) && !lists.IsHead(node) && steps <= pages.NrPages) return true;
        string link = lists.IsHead(from) ? "the balloon list head's" : $"pfn {from}'s";
        string fault = PageLists.IsPoison(node)
            ? $"general protection fault in balloon_page_dequeue: following {link} list_del'ed lru.next ({(node == PageLists.Poison1 ? "dead000000100100, LIST_POISON1" : "dead000000200200, LIST_POISON2")})"
            : lists.IsHead(node) ? $"balloon_page_dequeue walked off the balloon list: {link} lru.next is another list_head, taken as a struct page"
            : "balloon_page_dequeue: the balloon list walk does not come back to its head";
        sanitizer.Report(ReportKind.ListCorruption, lists.IsHead(from) ? -1 : from, fault);
        return false;
    }
}
