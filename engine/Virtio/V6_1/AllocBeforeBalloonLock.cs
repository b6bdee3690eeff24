using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Virtio.V6_1;

/// <summary>
/// 6.1 virtio_balloon.c (the shape since c7cdff0e8647, "virtio_balloon: fix deadlock on OOM", v4.15): fill_balloon
/// allocates with balloon_page_alloc onto a local list <em>before</em> taking balloon_lock, so the msleep(200) after
/// "Out of puff!" is slept without it (compaction's virtballoon_migratepage and a leak go on meanwhile); then, under
/// the lock, balloon_page_enqueue of each page popped from the list (last allocated first). leak_balloon gathers the
/// dequeued pages on a local list and release_pages_balloon puts them (list order: last dequeued first) before the
/// unlock. virtballoon_migratepage moves a managed page between zones when newpage is in another one (a late-2019 fix)
/// and takes the old page out of the balloon under <c>pages_lock</c>.
/// </summary>
[KernelPart("driver fill/leak", PartVersion.V6_1)]
internal sealed partial class AllocBeforeBalloonLock(IBalloonCompaction balloon, Node node, BalloonDevInfo dev) : IDriverFillLeak, ISnapshotState
{
    /// <summary>
    /// The local <c>pages</c> list of the kthread's fill_balloon while it sleeps after "Out of puff!" (allocation order;
    /// balloon_page_push adds at the head). Every other call's list lives and dies within the call.
    /// </summary>
    private readonly List<int> _sleeping = [];

    [Preemptible]
    public int Fill(VirtioBalloon vb, long num, bool inThread)
    {
        num = Math.Min(num, VirtioBalloon.MaxPfns);
        // The local list sized for the call: grown page by page it was about 1 MB of garbage per 512 MiB inflated.
        var pages = new List<int>((int)num / VirtioBalloon.PagesPerPage);
        for (int numPfns = 0; numPfns < num; numPfns += VirtioBalloon.PagesPerPage)
        {
            int page = balloon.Alloc();
            if (page < 0)
            {
                // 6.1: dev_info_ratelimited + msleep(200) without balloon_lock; the pages got so far wait on the list.
                if (vb.OutOfPuff200Ms(inThread))
                {
                    _sleeping.AddRange(pages);
                    return -1;
                }
                break;
            }
            pages.Add(page);
        }
        return EnqueueAndTell(vb, pages);
    }

    [Preemptible]
    public int FillAfterSleep(VirtioBalloon vb)
    {
        var pages = new List<int>(_sleeping);
        _sleeping.Clear();
        return EnqueueAndTell(vb, pages);
    }

    /// <summary>The locked half of 6.1 fill_balloon: enqueue what was allocated, count it, tell the host.</summary>
    [Preemptible]
    private int EnqueueAndTell(VirtioBalloon vb, List<int> pages)
    {
        vb.BalloonLock.Lock();
        vb.NumPfns = 0;
        for (int i = pages.Count - 1; i >= 0; i--) // balloon_page_pop: the head, i.e. the last page allocated
        {
            int page = pages[i];
            balloon.Enqueue(page);
            vb.SetPagePfns(vb.NumPfns, page);
            vb.NumPages += VirtioBalloon.PagesPerPage;
            if (!vb.DeflateOnOom) vb.AdjustManagedPageCount(page, -1);
            vb.NumPfns += VirtioBalloon.PagesPerPage;
        }
        return vb.TellInflateAndUnlock();
    }

    [Preemptible]
    public int Leak(VirtioBalloon vb, long num)
    {
        num = Math.Min(num, VirtioBalloon.MaxPfns);
        var pages = new List<int>((int)num / VirtioBalloon.PagesPerPage); // leak_balloon's local list, in dequeue order (list_add puts each at the head)
        vb.BalloonLock.Lock();
        num = Math.Min(num, vb.NumPages); // 6.1: "We can't release more pages than taken"
        vb.DequeueIntoPfns(num, pages);
        int removed = vb.NumPfns;
        if (vb.NumPfns != 0) vb.TellHost(VirtQueue.Deflate);
        ReleasePagesBalloon(vb, pages);
        vb.BalloonLock.Unlock();
        return removed;
    }

    /// <summary>6.1 release_pages_balloon: walks the list from its head (last dequeued first); put_page each.</summary>
    [Preemptible]
    private static void ReleasePagesBalloon(VirtioBalloon vb, List<int> pages)
    {
        using var _ = vb.Enter("release_pages_balloon");
        for (int i = pages.Count - 1; i >= 0; i--)
        {
            if (!vb.DeflateOnOom) vb.AdjustManagedPageCount(pages[i], +1);
            vb.Release.Release(pages[i]);
        }
    }

    /// <summary>
    /// 6.1 virtballoon_migratepage: inflation took the page out of its zone's managed pages, so a move to another
    /// zone hands that back and takes one from newpage's zone (without DEFLATE_ON_OOM).
    /// </summary>
    public void MigratepageManagedPages(VirtioBalloon vb, int newpage, int page)
    {
        if (vb.DeflateOnOom || node.ZoneOf(page) == node.ZoneOf(newpage)) return;
        vb.AdjustManagedPageCount(page, +1);
        vb.AdjustManagedPageCount(newpage, -1);
    }

    /// <summary>6.1 virtballoon_migratepage: balloon_page_delete(page) under <c>pages_lock</c> (v4.8's took no lock there).</summary>
    [Preemptible]
    public void MigratepageDeletePage(VirtioBalloon vb, int page)
    {
        dev.PagesLock.Lock();
        balloon.BalloonPageDelete(page);
        dev.PagesLock.Unlock();
    }

    /// <summary>6.1's sleeping fill_balloon has put nothing in the balloon yet: its pages are only allocated.</summary>
    public ReadOnlySpan<long> UntoldPfns(VirtioBalloon vb) => [];

    /// <summary>The pages a fill_balloon asleep after "Out of puff!" holds on its local list (across operations).</summary>
    public object Save() => _sleeping.ToArray();

    public void Restore(object saved)
    {
        _sleeping.Clear();
        _sleeping.AddRange((int[])saved);
    }
}
