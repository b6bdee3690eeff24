using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Printk;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// drivers/virtio/virtio_balloon.c (TROVON v3.16 and v3.18, v4.6 for the fixed design): fill_balloon,
/// leak_balloon, virtballoon_migratepage and the balloon kthread's loop towards a target. One shared
/// <c>vb-&gt;pfns</c> array carries the PFNs of every fill, leak and migration, under <c>balloon_lock</c>
/// (release_pages_by_pfn reads it after the lock is dropped up to v4.4). The host learns PFNs only in
/// <see cref="TellHost"/>, a blocking wait for its acknowledgement.
/// What differs per design is composed in: fill_balloon and leak_balloon themselves, i.e. whether pages are
/// allocated and the "Out of puff!" sleep slept under balloon_lock (<see cref="IDriverFillLeak"/>), when and how
/// deflated pages are released, and the references migratepage takes and drops (<see cref="IDriverRelease"/>).
/// </summary>
internal sealed partial class VirtioBalloon : IVirtioBalloon, IDriverMigratePage, ISnapshotState
{
    /// <summary>ARRAY_SIZE(vb-&gt;pfns): at most this many PFNs per fill or leak call.</summary>
    public const int MaxPfns = 256;

    /// <summary>VIRTIO_BALLOON_PAGES_PER_PAGE on x86: a guest page is one 4 KiB balloon PFN.</summary>
    public const int PagesPerPage = 1;

    private readonly IBalloonCompaction _balloon;
    private readonly IDriverRelease _release;
    private readonly IDriverFillLeak _fillLeak;
    private readonly BalloonDevInfo _dev;
    private readonly BalloonHost _host;
    private readonly Node _node;
    private readonly VmStat _vmstat;
    private readonly Scheduler _scheduler;
    private readonly SimClock _clock;
    private readonly KernelLog _log;
    private readonly FatalSignal _signal;
    [NotState("true only while the thread runs, inside an operation")]
    private bool _threadRunning;
    private bool _outOfPuffSleep;
    /// <summary><c>vb-&gt;pfns</c>: shared by fill, leak and migratepage under balloon_lock.</summary>
    private readonly SharedArray _pfns;
    /// <summary><c>vb-&gt;num_pfns</c> and <c>vb-&gt;num_pages</c> (<see cref="NumPfnsIndex"/>, <see cref="NumPagesIndex"/>).</summary>
    private readonly SharedArray _counts;
    private const int NumPfnsIndex = 0, NumPagesIndex = 1;

    public VirtioBalloon(IBalloonCompaction balloon, IDriverRelease release, IDriverFillLeak fillLeak, BalloonDevInfo dev,
        BalloonHost host, Node node, VmStat vmstat, Scheduler scheduler, SimClock clock, KernelLog log, FatalSignal signal,
        SimulationOptions options, IBalloonOomNotifier? oomNotifier = null, V6_1.FreePageReport? freePageReport = null,
        V6_1.FreePageHint? freePageHint = null)
    {
        DeflateOnOom = options.DeflateOnOom;
        _log = log;
        _signal = signal;
        _balloon = balloon;
        _release = release;
        _fillLeak = fillLeak;
        _clock = clock;
        _dev = dev;
        _host = host;
        _node = node;
        _vmstat = vmstat;
        _scheduler = scheduler;
        _pfns = new SharedArray(scheduler, MaxPfns);
        _counts = new SharedArray(scheduler, 2);
        BalloonLock = new SimLock(scheduler, "vb->balloon_lock");
        // virtballoon_probe: v3.16 virtio_balloon_aops.migratepage, v3.18 vb_dev_info.migratepage.
        dev.MigratePage = this;
        // virtballoon_changed: the config-change interrupt wakes the balloon thread.
        host.ConfigChanged += () => clock.AddTimer(clock.NowNs, TimerKind.BalloonWork);
        clock.Handle(TimerKind.BalloonWork, _ => WakeThread());
        clock.Handle(TimerKind.BalloonOutOfPuffSleep, _ => ResumeThread());
        // 4.20+ probe with VIRTIO_BALLOON_F_FREE_PAGE_HINT negotiated: the hint work and its shrinker.
        freePageHint?.Probe();
        // v3.19+ probe: the OOM notifier (none before v3.19; registered or not by the version's rule).
        oomNotifier?.Probe(this);
        // 5.7+ probe with VIRTIO_BALLOON_F_REPORTING negotiated: free page reporting registers the device.
        freePageReport?.Probe();
    }

    /// <summary>virtio_has_feature(vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM): the host offered it and this driver knows it.</summary>
    public bool DeflateOnOom { get; }

    /// <summary>"Out of puff!" messages: fill_balloon calls that could not get a page and slept 200 ms.</summary>
    public long OutOfPuff { get; private set; }

    /// <summary>towards_target (v3.16): the host's num_pages minus the pages the guest has given.</summary>
    public long TowardsTarget() => _host.TargetPages - NumPages;

    /// <summary>The "vballoon" kthread woken (by the host, or its own re-arm): it runs unless already running.</summary>
    private void WakeThread()
    {
        // Running, or asleep in fill_balloon's msleep (which no wake_up ends): it sees the target when it goes on.
        if (_threadRunning || _outOfPuffSleep) return;
        if (!_scheduler.Switching && BalloonLock.IsLocked)
        {
            // Woken while the path it interrupted sleeps under balloon_lock (virtballoon_migratepage waiting for the
            // host): the thread would block in fill_balloon's mutex_lock and go on as the mutex is released.
            BalloonLock.WhenUnlocked(WakeThread);
            return;
        }
        _scheduler.RunWoken(new SimTask(VballoonTaskId, 0, "vballoon", BalloonThread) { Flags = PF.Kthread });
    }

    /// <summary>The task id the balloon thread runs under (apart from scenario tasks, which count up from 0).</summary>
    private const int VballoonTaskId = 1 << 22;

    /// <summary>
    /// The v3.16–v4.5 <c>balloon</c> kthread: while towards_target ≠ 0, one fill_balloon or leak_balloon (at most
    /// 256 pages), update_balloon_size, cond_resched — back to back, with no sleep but the 200 ms after an "Out of
    /// puff". When the time being let pass is used up it stops, to go on as soon as time passes again.
    /// </summary>
    [Preemptible]
    private void BalloonThread()
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        RunThread(resumeFill: false);
    }

    /// <summary>
    /// The thread's msleep(200) ran out. If it slept without balloon_lock (6.1) while a path it interrupted sleeps
    /// under the mutex, it goes on once the mutex is released (as <see cref="WakeThread"/>).
    /// </summary>
    private void ResumeThread()
    {
        if (!_scheduler.Switching && BalloonLock.IsLocked && !BalloonLock.HeldBy(VballoonTaskId))
        {
            BalloonLock.WhenUnlocked(ResumeThread);
            return;
        }
        _scheduler.RunWoken(new SimTask(VballoonTaskId, 0, "vballoon", ResumeAfterOutOfPuff) { Flags = PF.Kthread });
    }

    /// <summary>The thread's msleep(200) in fill_balloon ran out: it finishes that call and goes on with its loop.</summary>
    [Preemptible]
    private void ResumeAfterOutOfPuff()
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        RunThread(resumeFill: true);
    }

    [Preemptible]
    private void RunThread(bool resumeFill)
    {
        _threadRunning = true;
        try
        {
            if (resumeFill)
            {
                _outOfPuffSleep = false;
                using (_scheduler.Current.Path.Enter("fill_balloon")) _fillLeak.FillAfterSleep(this);
                UpdateBalloonSize();
                _clock.CondResched();
            }
            long diff;
            while ((diff = TowardsTarget()) != 0)
            {
                if (_clock.PastDeadline)
                {
                    _clock.AddTimer(_clock.NowNs + 1, TimerKind.BalloonWork); // goes on as soon as time passes again
                    return;
                }
                if (diff > 0)
                {
                    if (FillBalloon(diff, inThread: true) < 0) return; // asleep after "Out of puff!" (v3.16: holding balloon_lock)
                }
                else LeakBalloon(-diff);
                UpdateBalloonSize();
                _clock.CondResched();
            }
        }
        finally
        {
            _threadRunning = false;
        }
    }

    /// <summary>update_balloon_size: the config's <c>actual</c> (the thread's loop then calls cond_resched).</summary>
    public void UpdateBalloonSize() => _host.ActualPages = NumPages;

    /// <summary><c>vb-&gt;balloon_lock</c>: the mutex around fill, leak and migratepage.</summary>
    public SimLock BalloonLock { get; }

    /// <summary><c>vb-&gt;num_pages</c>: balloon PFNs the guest has given (what it reports as <c>actual</c>).</summary>
    public long NumPages
    {
        get => _counts[NumPagesIndex];
        internal set => _counts.Set(NumPagesIndex, value);
    }

    /// <summary>The PFN buffer, the counts, and the thread's sleep after "Out of puff!" (which can span operations; v3.16 holding balloon_lock).</summary>
    public object Save() => (_pfns.Save(), _counts.Save(), BalloonLock.Save(), OutOfPuff, _outOfPuffSleep);

    public void Restore(object saved)
    {
        (long[] pfns, long[] counts, object balloonLock, long outOfPuff, _outOfPuffSleep) = ((long[], long[], object, long, bool))saved;
        _pfns.Restore(pfns);
        _counts.Restore(counts);
        OutOfPuff = outOfPuff;
        BalloonLock.Restore(balloonLock);
    }

    /// <summary>Pages fill_balloon can still get before every zone reaches its min watermark.</summary>
    public long InflatablePages() => _balloon.AllocatablePages();

    /// <summary>
    /// A synchronous inflation: the host raises its target by <paramref name="pages"/> and the balloon thread fills
    /// until the target is reached or a call gets no page at all (it has already reclaimed what it could and slept
    /// its 200 ms after "Out of puff"), or Ctrl-C stops the request between two calls; then the host settles for what
    /// it got. Returns the pages inflated.
    /// </summary>
    [Preemptible]
    public long Inflate(long pages)
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        long start = NumPages, target = NumPages + pages;
        _host.SetTargetQuietly(target);
        while (NumPages < target && !_signal.Pending && FillBalloon(target - NumPages) > 0) { }
        _host.SetTargetQuietly(NumPages);
        _host.ActualPages = NumPages;
        return NumPages - start;
    }

    /// <summary>
    /// A synchronous deflation: leak_balloon towards a target <paramref name="pages"/> lower, until reached, no page can be
    /// dequeued, or Ctrl-C; the host settles. Returns the pages deflated.
    /// </summary>
    [Preemptible]
    public long Deflate(long pages)
    {
        using var _ = _scheduler.Current.Path.Enter("balloon");
        long start = NumPages, target = NumPages - pages;
        _host.SetTargetQuietly(target);
        while (NumPages > target && !_signal.Pending && LeakBalloon(NumPages - target) > 0) { }
        _host.SetTargetQuietly(NumPages);
        _host.ActualPages = NumPages;
        return start - NumPages;
    }

    /// <summary>
    /// fill_balloon: up to 256 PFNs, as the design's <see cref="IDriverFillLeak"/> does it. A failed allocation ends
    /// the call after msleep(200) (v3.16 still holding balloon_lock, 6.1 before taking it). Returns the PFNs added.
    /// </summary>
    [Preemptible]
    public int FillBalloon(long num) => FillBalloon(num, inThread: false);

    /// <summary>
    /// fill_balloon as above. In the kthread (<paramref name="inThread"/>) the msleep(200) after "Out of puff!" is a
    /// timer, so time and everything else go on while the thread sleeps; it returns −1 then and
    /// <see cref="ResumeAfterOutOfPuff"/> finishes the call.
    /// </summary>
    [Preemptible]
    private int FillBalloon(long num, bool inThread)
    {
        using var _ = _scheduler.Current.Path.Enter("fill_balloon");
        return _fillLeak.Fill(this, num, inThread);
    }

    /// <summary>
    /// fill_balloon's "Out of puff!": count it, the rate-limited message, and msleep(200) — in the kthread
    /// (<paramref name="inThread"/>) a timer, and true (the caller returns; the thread goes on when it fires).
    /// </summary>
    [Preemptible]
    internal bool OutOfPuff200Ms(bool inThread)
    {
        OutOfPuff++;
        if (_log.Ratelimit("fill_balloon")) _log.Printk($"virtio_balloon virtio0: Out of puff! Can't get {PagesPerPage} pages");
        if (inThread)
        {
            _outOfPuffSleep = true;
            _clock.AddTimer(_clock.NowNs + _clock.MsleepNs(200), TimerKind.BalloonOutOfPuffSleep);
            return true;
        }
        _clock.Msleep(200, "fill_balloon");
        return false;
    }

    public ReadOnlySpan<long> UntoldPfns() => _outOfPuffSleep ? _fillLeak.UntoldPfns(this) : [];

    /// <summary>leak_balloon: dequeue up to 256 pages, tell the host, release them, as the design's <see cref="IDriverFillLeak"/> does it. Returns the PFNs removed.</summary>
    [Preemptible]
    public int LeakBalloon(long num)
    {
        using var _ = _scheduler.Current.Path.Enter("leak_balloon");
        return _fillLeak.Leak(this, num);
    }

    /// <summary>The end of fill_balloon: tell_host(inflate_vq) if any PFN was gathered, drop balloon_lock; the PFNs added.</summary>
    [Preemptible]
    internal int TellInflateAndUnlock()
    {
        int added = NumPfns;
        if (added != 0) TellHost(VirtQueue.Inflate);
        BalloonLock.Unlock();
        return added;
    }

    /// <summary>
    /// leak_balloon's loop (balloon_lock held): balloon_page_dequeue up to <paramref name="num"/> PFNs into vb-&gt;pfns,
    /// num_pages counted down; 6.1 also links each page into its local list (<paramref name="pages"/>, dequeue order).
    /// </summary>
    [Preemptible]
    internal void DequeueIntoPfns(long num, List<int>? pages)
    {
        for (NumPfns = 0; NumPfns < num; NumPfns += PagesPerPage)
        {
            int page = _balloon.Dequeue();
            if (page < 0) break;
            SetPagePfns(NumPfns, page);
            pages?.Add(page);
            NumPages -= PagesPerPage;
        }
    }

    /// <summary><c>vb-&gt;num_pfns</c>: how many entries of <c>vb-&gt;pfns</c> the next tell_host sends.</summary>
    internal int NumPfns
    {
        get => (int)_counts[NumPfnsIndex];
        set => _counts.Set(NumPfnsIndex, value);
    }

    /// <summary><c>vb-&gt;pfns[0, <paramref name="count"/>)</c>, read.</summary>
    internal ReadOnlySpan<long> Pfns(int count) => _pfns.AsSpan(0, count);

    /// <summary>The design's release of deflated pages.</summary>
    internal IDriverRelease Release => _release;

    /// <summary>adjust_managed_page_count(page, <paramref name="count"/>): the page's zone's managed_pages.</summary>
    internal void AdjustManagedPageCount(int page, int count) => _node.ZoneOf(page).AdjustManagedPageCount(count);

    /// <summary>A frame of the current task's call path.</summary>
    internal CallPath.Frame Enter(string function) => _scheduler.Current.Path.Enter(function);

    /// <summary>
    /// virtballoon_migratepage, called by balloon_page_migrate with both pages locked: newpage into the
    /// balloon (inflate it), page out of it (deflate it). Never waits for balloon_lock: fill or leak may hold
    /// it, and fill_balloon's own allocation can lead here; -EAGAIN makes migration retry.
    /// </summary>
    [Preemptible]
    int IDriverMigratePage.MigratePage(int newpage, int page, MigrateMode mode) => Migratepage(newpage, page, mode);

    /// <inheritdoc cref="IDriverMigratePage.MigratePage"/>
    [Preemptible]
    public int Migratepage(int newpage, int page, MigrateMode mode)
    {
        using var _ = _scheduler.Current.Path.Enter("virtballoon_migratepage");
        if (!BalloonLock.TryLock()) return MigrateRc.EAgain;
        _release.MigratepageTakesNewpage(newpage);
        _fillLeak.MigratepageManagedPages(this, newpage, page);
        _dev.PagesLock.Lock();
        _balloon.BalloonPageInsert(newpage);
        _dev.IsolatedPages--;
        _vmstat.Count(VmEvent.BalloonMigrate);
        _dev.PagesLock.Unlock();
        NumPfns = PagesPerPage;
        SetPagePfns(0, newpage);
        TellHost(VirtQueue.Inflate);
        _fillLeak.MigratepageDeletePage(this, page);
        NumPfns = PagesPerPage;
        SetPagePfns(0, page);
        TellHost(VirtQueue.Deflate);
        BalloonLock.Unlock();
        return _release.MigratepageFinish(page);
    }

    /// <summary>
    /// tell_host: the host takes the PFNs in vb-&gt;pfns[0, num_pfns) at the kick; the driver then sleeps in
    /// wait_event until the host acknowledges, <see cref="BalloonHost.AckNs"/> later (other CPUs run meanwhile).
    /// </summary>
    [Preemptible]
    internal void TellHost(VirtQueue vq)
    {
        using var _ = _scheduler.Current.Path.Enter("tell_host");
        int num = NumPfns;
        _host.Receive(vq, Pfns(num));
        _clock.WaitForDevice(_host.AckNs(num), "tell_host: wait_event(vb->acked)");
    }

    /// <summary>set_page_pfns: the balloon PFNs of one guest page, from <paramref name="index"/> on.</summary>
    internal void SetPagePfns(int index, int page)
    {
        for (int i = 0; i < PagesPerPage; i++) _pfns.Set(index + i, page * PagesPerPage + i);
    }

    /// <summary>
    /// release_pages_by_pfn(vb-&gt;pfns, num) (v4.5 release_pages_balloon): the count is fixed at the call, but
    /// each PFN is read from the shared array as the loop goes; the design's release of each page and
    /// adjust_managed_page_count(+1), in the version's order (<see cref="IDriverRelease.AdjustsAfterRelease"/>: the free
    /// takes zone-&gt;lock, so another CPU can see the page free and not yet managed in v3.16, managed and not yet free
    /// from v3.18).
    /// </summary>
    [Preemptible]
    internal void ReleasePagesByPfn(int num)
    {
        using var _ = _scheduler.Current.Path.Enter("release_pages_by_pfn");
        bool adjust = !DeflateOnOom, after = _release.AdjustsAfterRelease;
        for (int i = 0; i < num; i += PagesPerPage)
        {
            int page = (int)_pfns[i] / PagesPerPage; // balloon_pfn_to_page
            if (adjust && !after) _node.ZoneOf(page).AdjustManagedPageCount(1);
            _release.Release(page);
            if (adjust && after) _node.ZoneOf(page).AdjustManagedPageCount(1);
        }
    }
}
