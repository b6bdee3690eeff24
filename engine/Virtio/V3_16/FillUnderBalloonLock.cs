using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V3_16;

/// <summary>
/// v3.16 virtio_balloon.c (its shape kept to v4.14; v4.8's caps the leak: <see cref="V4_8.LeakNoMoreThanTaken"/>):
/// fill_balloon takes balloon_lock first and allocates and enqueues each page under it (balloon_page_enqueue
/// allocates), so the msleep(200) after "Out of puff!" is slept holding the mutex; leak_balloon releases vb-&gt;pfns as
/// the design's release says; migratepage leaves managed_pages alone.
/// </summary>
[KernelPart("driver fill/leak", PartVersion.V3_16)]
internal partial class FillUnderBalloonLock(IBalloonCompaction balloon) : IDriverFillLeak
{
    /// <summary>fill_balloon: each page enqueued is listed (and isolatable) before the host is told.</summary>
    [Preemptible]
    public int Fill(VirtioBalloon vb, long num, bool inThread)
    {
        num = Math.Min(num, VirtioBalloon.MaxPfns);
        vb.BalloonLock.Lock();
        for (vb.NumPfns = 0; vb.NumPfns < num; vb.NumPfns += VirtioBalloon.PagesPerPage)
        {
            int page = balloon.Enqueue();
            if (page < 0)
            {
                if (vb.OutOfPuff200Ms(inThread)) return -1; // the thread sleeps holding balloon_lock
                break;
            }
            vb.SetPagePfns(vb.NumPfns, page);
            vb.NumPages += VirtioBalloon.PagesPerPage;
            // adjust_managed_page_count(page, -1), v4.5+ only without DEFLATE_ON_OOM: pages the OOM notifier may hand
            // back stay in managed_pages (and MemTotal).
            if (!vb.DeflateOnOom) vb.AdjustManagedPageCount(page, -1);
        }
        return FillAfterSleep(vb);
    }

    /// <summary>The end of fill_balloon: tell the host about the PFNs gathered, drop balloon_lock.</summary>
    [Preemptible]
    public int FillAfterSleep(VirtioBalloon vb) => vb.TellInflateAndUnlock();

    /// <summary>
    /// leak_balloon: dequeue up to 256 pages, tell the host before the guest reuses them (MUST_TELL_HOST), then release
    /// vb-&gt;pfns[0, vb-&gt;num_pfns): after dropping balloon_lock up to v4.4, before it from v4.5. Returns the PFNs
    /// removed (v4.5's num_freed_pages; v3.16/v3.18 return nothing).
    /// </summary>
    [Preemptible]
    public int Leak(VirtioBalloon vb, long num)
    {
        num = Math.Min(num, VirtioBalloon.MaxPfns);
        vb.BalloonLock.Lock();
        vb.DequeueIntoPfns(LeakLimit(vb, num), pages: null);
        int removed = vb.NumPfns;
        if (vb.NumPfns != 0) vb.TellHost(VirtQueue.Deflate);
        if (vb.Release.UnderBalloonLock)
        {
            vb.ReleasePagesByPfn(vb.NumPfns);
            vb.BalloonLock.Unlock();
        }
        else
        {
            vb.BalloonLock.Unlock();
            // release_pages_by_pfn(vb->pfns, vb->num_pfns): num_pfns too is read after the unlock, so a
            // virtballoon_migratepage in between (num_pfns = 1) cuts the release short.
            vb.ReleasePagesByPfn(vb.NumPfns);
        }
        return removed;
    }

    /// <summary>How many PFNs leak_balloon dequeues of the <paramref name="num"/> asked, under balloon_lock: all (v3.16–v4.5).</summary>
    protected virtual long LeakLimit(VirtioBalloon vb, long num) => num;

    /// <summary>Before the late-2019 fix migratepage leaves managed pages in the old zone (compaction stays in one zone).</summary>
    public void MigratepageManagedPages(VirtioBalloon vb, int newpage, int page) { }

    /// <summary>balloon_page_delete(page) without pages_lock, as up to v4.8 (v3.16: this also unlinks the page from compaction's migrate list).</summary>
    public void MigratepageDeletePage(VirtioBalloon vb, int page) => balloon.BalloonPageDelete(page);

    public ReadOnlySpan<long> UntoldPfns(VirtioBalloon vb) => vb.Pfns(vb.NumPfns);
}
