using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// drivers/virtio/virtio_balloon.c (TROVON v3.16 and v3.18, v4.6 for the fixed design): fill_balloon,
/// leak_balloon, virtballoon_migratepage and the balloon kthread's loop towards a target. One shared
/// <c>vb-&gt;pfns</c> array carries the PFNs of every fill, leak and migration, under <c>balloon_lock</c>
/// (release_pages_by_pfn reads it after the lock is dropped up to v4.4). The host learns PFNs only in
/// <see cref="TellHost"/>, a blocking wait for its acknowledgement.
/// What differs per design is composed in: when and how deflated pages are released (<see cref="IDriverRelease"/>)
/// and the references migratepage takes and drops (<see cref="IBalloonMigrationPath"/>).
/// </summary>
internal sealed class VirtioBalloon : IVirtioBalloon
{
    /// <summary>ARRAY_SIZE(vb-&gt;pfns): at most this many PFNs per fill or leak call.</summary>
    public const int MaxPfns = 256;

    /// <summary>VIRTIO_BALLOON_PAGES_PER_PAGE on x86: a guest page is one 4 KiB balloon PFN.</summary>
    public const int PagesPerPage = 1;

    private readonly IBalloonCompaction _balloon;
    private readonly IDriverRelease _release;
    private readonly IBalloonMigrationPath _migration;
    private readonly BalloonDevInfo _dev;
    private readonly BalloonHost _host;
    private readonly Node _node;
    private readonly VmStat _vmstat;
    private readonly Scheduler _scheduler;
    private readonly SimClock _clock;
    private readonly FatalSignal _signal;
    private readonly int[] _pfns = new int[MaxPfns];
    private int _numPfns;

    public VirtioBalloon(IBalloonCompaction balloon, IDriverRelease release, IBalloonMigrationPath migration, BalloonDevInfo dev,
        BalloonHost host, Node node, VmStat vmstat, Scheduler scheduler, SimClock clock, FatalSignal signal)
    {
        _signal = signal;
        _balloon = balloon;
        _release = release;
        _migration = migration;
        _clock = clock;
        _dev = dev;
        _host = host;
        _node = node;
        _vmstat = vmstat;
        _scheduler = scheduler;
        BalloonLock = new SimLock(scheduler, "vb->balloon_lock");
        // virtballoon_probe: v3.16 virtio_balloon_aops.migratepage, v3.18 vb_dev_info.migratepage.
        dev.MigratePage = Migratepage;
    }

    /// <summary><c>vb-&gt;balloon_lock</c>: the mutex around fill, leak and migratepage.</summary>
    public SimLock BalloonLock { get; }

    /// <summary><c>vb-&gt;num_pages</c>: balloon PFNs the guest has given (what it reports as <c>actual</c>).</summary>
    public long NumPages { get; private set; }

    /// <summary>Pages fill_balloon can still get before every zone reaches its min watermark.</summary>
    public long InflatablePages() => _balloon.AllocatablePages();

    /// <summary>
    /// The balloon kthread after the host raised the target by <paramref name="pages"/>: fill_balloon until
    /// the target is reached or a call gets no page ("Out of puff"; the kthread would retry every 200 ms), or
    /// Ctrl-C stops the request between two calls. Returns the pages inflated.
    /// </summary>
    public long Inflate(long pages)
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        long start = NumPages, target = NumPages + pages;
        while (NumPages < target && !_signal.Pending && FillBalloon(target - NumPages) > 0) { }
        return NumPages - start;
    }

    /// <summary>The kthread towards a lower target: leak_balloon until reached, no page can be dequeued, or Ctrl-C. Returns the pages deflated.</summary>
    public long Deflate(long pages)
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        long start = NumPages, target = NumPages - pages;
        while (NumPages > target && !_signal.Pending && LeakBalloon(NumPages - target) > 0) { }
        return start - NumPages;
    }

    /// <summary>
    /// fill_balloon: up to 256 PFNs; each page enqueued is listed (and isolatable) before the host is told.
    /// A failed allocation ends the call after msleep(200), still holding balloon_lock. Returns the PFNs added.
    /// </summary>
    public int FillBalloon(long num)
    {
        using var _ = _scheduler.Current.Path.Enter("fill_balloon");
        num = Math.Min(num, MaxPfns);
        BalloonLock.Lock();
        for (_numPfns = 0; _numPfns < num; _numPfns += PagesPerPage)
        {
            int page = _balloon.Enqueue();
            if (page < 0)
            {
                // dev_info_ratelimited("Out of puff! Can't get 1 pages"); msleep(200).
                _clock.Msleep(200, "fill_balloon");
                break;
            }
            SetPagePfns(_numPfns, page);
            NumPages += PagesPerPage;
            _node.ZoneOf(page).ManagedPages--; // adjust_managed_page_count(page, -1)
        }
        int added = _numPfns;
        if (_numPfns != 0) TellHost(VirtQueue.Inflate);
        BalloonLock.Unlock();
        return added;
    }

    /// <summary>
    /// leak_balloon: dequeue up to 256 pages, tell the host before the guest reuses them (MUST_TELL_HOST),
    /// then release vb-&gt;pfns[0, vb-&gt;num_pfns): after dropping balloon_lock up to v4.4, before it from v4.5.
    /// Returns the PFNs removed (v4.5's num_freed_pages; v3.16/v3.18 return nothing).
    /// </summary>
    public int LeakBalloon(long num)
    {
        using var _ = _scheduler.Current.Path.Enter("leak_balloon");
        num = Math.Min(num, MaxPfns);
        BalloonLock.Lock();
        for (_numPfns = 0; _numPfns < num; _numPfns += PagesPerPage)
        {
            int page = _balloon.Dequeue();
            if (page < 0) break;
            SetPagePfns(_numPfns, page);
            NumPages -= PagesPerPage;
        }
        int removed = _numPfns;
        if (_numPfns != 0) TellHost(VirtQueue.Deflate);
        if (_release.UnderBalloonLock)
        {
            ReleasePagesByPfn(_numPfns);
            BalloonLock.Unlock();
        }
        else
        {
            BalloonLock.Unlock();
            // release_pages_by_pfn(vb->pfns, vb->num_pfns): num_pfns too is read after the unlock, so a
            // virtballoon_migratepage in between (num_pfns = 1) cuts the release short.
            ReleasePagesByPfn(_numPfns);
        }
        return removed;
    }

    /// <summary>
    /// virtballoon_migratepage, called by balloon_page_migrate with both pages locked: newpage into the
    /// balloon (inflate it), page out of it (deflate it). Never waits for balloon_lock: fill or leak may hold
    /// it, and fill_balloon's own allocation can lead here; -EAGAIN makes migration retry.
    /// </summary>
    public int Migratepage(int newpage, int page, MigrateMode mode)
    {
        using var _ = _scheduler.Current.Path.Enter("virtballoon_migratepage");
        if (!BalloonLock.TryLock()) return MigrateRc.EAgain;
        _migration.DriverTakesNewpage(newpage);
        _dev.PagesLock.Lock();
        _balloon.BalloonPageInsert(newpage);
        _dev.IsolatedPages--;
        _vmstat.Count(VmEvent.BalloonMigrate);
        _dev.PagesLock.Unlock();
        _numPfns = PagesPerPage;
        SetPagePfns(0, newpage);
        TellHost(VirtQueue.Inflate);
        // v3.16: this also unlinks page from compaction's migrate list.
        _balloon.BalloonPageDelete(page);
        _numPfns = PagesPerPage;
        SetPagePfns(0, page);
        TellHost(VirtQueue.Deflate);
        BalloonLock.Unlock();
        return _migration.DriverFinish(page);
    }

    /// <summary>
    /// tell_host: the host takes the PFNs in vb-&gt;pfns[0, num_pfns) at the kick; the driver then sleeps in
    /// wait_event until the host acknowledges (another CPU runs meanwhile).
    /// </summary>
    private void TellHost(VirtQueue vq)
    {
        using var _ = _scheduler.Current.Path.Enter("tell_host");
        _host.Receive(vq, _pfns.AsSpan(0, _numPfns));
        _scheduler.Preempt("tell_host: wait_event(vb->acked)");
    }

    /// <summary>set_page_pfns: the balloon PFNs of one guest page, from <paramref name="index"/> on.</summary>
    private void SetPagePfns(int index, int page)
    {
        for (int i = 0; i < PagesPerPage; i++) _pfns[index + i] = page * PagesPerPage + i;
    }

    /// <summary>
    /// release_pages_by_pfn(vb-&gt;pfns, num) (v4.5 release_pages_balloon): the count is fixed at the call, but
    /// each PFN is read from the shared array as the loop goes; adjust_managed_page_count(+1) and the design's
    /// release of each page (v3.16 frees before adjusting, v3.18 adjusts first: no preemption point between).
    /// </summary>
    private void ReleasePagesByPfn(int num)
    {
        using var _ = _scheduler.Current.Path.Enter("release_pages_by_pfn");
        for (int i = 0; i < num; i += PagesPerPage)
        {
            int page = _pfns[i] / PagesPerPage; // balloon_pfn_to_page
            _node.ZoneOf(page).ManagedPages++;
            _release.Release(page);
        }
    }
}
