using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Writeback at the level of page state (mm/page-writeback.c, mm/filemap.c, v3.16): a write starts with
/// set_page_writeback (PG_writeback, NR_WRITEBACK) and completes <see cref="SimulationOptions.IoLatencyMs"/> later
/// with end_page_writeback (a PG_reclaim page is rotated to the tail of its inactive list for reclaim; NR_WRITTEN).
/// A latency of 0 completes the write at once, as a synchronous device (zram's rw_page) does. The dirty limits
/// (global_dirty_limits) are computed here too, for /proc/vmstat's thresholds and v3.16 reclaim's throttle_vm_writeout.
/// </summary>
internal sealed partial class Writeback
{
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly Node _node;
    private readonly SimClock _clock;
    private readonly long _latencyNs;
    private readonly Lru _lru;
    private readonly VmStat _vmstat;

    /// <summary>vm_dirty_ratio and dirty_background_ratio (sysctl defaults, not options).</summary>
    private const int DirtyRatio = 20, DirtyBackgroundRatio = 10;

    private readonly IReclaimWritebackAccounting? _reclaimAccounting;

    public Writeback(PageTable pages, PageLists lists, Node node, Lru lru, SimClock clock, VmStat vmstat, SimulationOptions options,
        IReclaimWritebackAccounting? reclaimAccounting = null)
    {
        _reclaimAccounting = reclaimAccounting;
        _vmstat = vmstat;
        _pages = pages;
        _lists = lists;
        _node = node;
        _lru = lru;
        _clock = clock;
        _latencyNs = options.IoLatencyNs;
        clock.Handle(TimerKind.WritebackDone, pfn => EndPageWriteback((int)pfn));
        BootDirtyLimit = DirtyRatio * (node.Zones.Sum(z => z.ManagedPages) + 1) / 100;
    }

    /// <summary>
    /// global_dirty_limit as writeback_set_ratelimit leaves it at boot (page_writeback_init, start_kernel): the dirty
    /// threshold of a guest whose managed pages are all free, before init_per_zone_wmark_min (an initcall, later) sets
    /// dirty_balance_reserve and before any page cache. Only balance_dirty_pages moves it afterwards
    /// (update_dirty_limit), and dirtying tasks are not throttled here, so it stays.
    /// </summary>
    public long BootDirtyLimit { get; }

    /// <summary>
    /// global_dirty_limits (v3.16 mm/page-writeback.c): dirty = 20 % of the dirtyable memory, background = 10 % (halved
    /// dirty if not below it).
    /// </summary>
    public (long Background, long Dirty) GlobalDirtyLimits()
    {
        long available = GlobalDirtyableMemory();
        long dirty = DirtyRatio * available / 100, background = DirtyBackgroundRatio * available / 100;
        if (background >= dirty) background = dirty / 2;
        return (background, dirty);
    }

    /// <summary>
    /// global_dirty_limits through domain_dirty_limits (4.2 on; read in TROVON v4.8 page-writeback.c, the same in 6.1.78):
    /// each ratio is first made a share of PAGE_SIZE, (20 · 4096) / 100 = 819 and 409, "for higher precision", then
    /// applied as ratio · available / PAGE_SIZE: a little under 20 % and 10 %.
    /// </summary>
    public (long Background, long Dirty) DomainDirtyLimits()
    {
        const long pageSize = 4096;
        long available = GlobalDirtyableMemory();
        long dirty = DirtyRatio * pageSize / 100 * available / pageSize;
        long background = DirtyBackgroundRatio * pageSize / 100 * available / pageSize;
        if (background >= dirty) background = dirty / 2;
        return (background, dirty);
    }

    /// <summary>
    /// global_dirtyable_memory: free pages less the reserve (v3.16's dirty_balance_reserve, later totalreserve_pages: the
    /// same sum, set at boot) plus the file LRU, + 1.
    /// </summary>
    public long GlobalDirtyableMemory()
    {
        long reserve = _node.TotalreservePages;
        long x = _vmstat.Global(ZoneStat.NrFreePages);
        x -= Math.Min(x, reserve);
        x += _vmstat.Global(ZoneStat.NrInactiveFile) + _vmstat.Global(ZoneStat.NrActiveFile);
        return x + 1;
    }

    /// <summary>
    /// congestion_wait rounds of one <see cref="ThrottleVmWriteout"/> before it gives up (10 s of simulated time; the
    /// kernel waits as long as writeback stays above the limit, which an explored race, where sleeps fire no timers,
    /// could make for ever).
    /// </summary>
    public const int ThrottleLimit = 100;

    /// <summary>
    /// throttle_vm_writeout (v3.16 mm/page-writeback.c, the end of shrink_lruvec; v4.8's page-writeback.c still has it,
    /// v4.9's not, both read in TROVON): while the pages under writeback (NR_WRITEBACK; NR_UNSTABLE_NFS is 0) exceed the
    /// dirty limit (hard_dirty_limit: the larger of the current one and <see cref="BootDirtyLimit"/>) plus a tenth,
    /// congestion_wait HZ/10; a caller without both __GFP_FS and __GFP_IO waits once at most. Returns the rounds waited.
    /// </summary>
    [Preemptible]
    public int ThrottleVmWriteout(PageAlloc.Gfp gfpMask)
    {
        for (int rounds = 0; rounds < ThrottleLimit; )
        {
            long dirtyThresh = Math.Max(GlobalDirtyLimits().Dirty, BootDirtyLimit);
            dirtyThresh += dirtyThresh / 10;
            if (_vmstat.Global(ZoneStat.NrWriteback) <= dirtyThresh) return rounds;
            _clock.CongestionWait();
            rounds++;
            if ((gfpMask & (PageAlloc.Gfp.Fs | PageAlloc.Gfp.Io)) != (PageAlloc.Gfp.Fs | PageAlloc.Gfp.Io)) return rounds;
        }
        return ThrottleLimit;
    }

    /// <summary>set_page_writeback, and the I/O completing after the device latency.</summary>
    [Preemptible]
    public void StartWriteback(int pfn)
    {
        SetPageWriteback(pfn);
        SubmitWrite(pfn);
    }

    /// <summary>set_page_writeback: PG_writeback and NR_WRITEBACK (a writepage sets it before it unlocks the page).</summary>
    public void SetPageWriteback(int pfn)
    {
        _pages.Set(pfn, PG.Writeback);
        _node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrWriteback, 1);
    }

    /// <summary>submit_bio of a page under writeback (pgpgout): the I/O completes after the device latency (at once without one).</summary>
    [Preemptible]
    public void SubmitWrite(int pfn)
    {
        _vmstat.CountPageBio(VmEvent.Pgpgout);
        if (_latencyNs == 0) EndPageWriteback(pfn);
        else _clock.AddTimer(_clock.NowNs + _latencyNs, TimerKind.WritebackDone, pfn);
    }

    /// <summary>
    /// wakeup_flusher_threads(nr_pages) (fs/fs-writeback.c, at the level of pages): the flusher starts writeback of
    /// up to <paramref name="nrPages"/> dirty page-cache pages, oldest first (from the tail of the inactive, then the
    /// active file list of each zone, or of the node lruvec). Periodic background writeback (dirty_expire) is not modelled: pages stay
    /// dirty until reclaim wakes the flusher or writes them itself.
    /// </summary>
    [Preemptible]
    public void WakeupFlusherThreads(long nrPages)
    {
        foreach (var zone in _node.Zones)
        {
            if (_node.NodeLruvec && zone != _node.Zones[0]) break; // one node lruvec: its lists are walked once
            foreach (int l in new[] { Zone.LruInactiveFile, Zone.LruActiveFile })
            {
                int head = zone.LruHead[l];
                for (int page = _lists.Prev(head); page != head && nrPages > 0 && !PageLists.IsPoison(page); page = _lists.Prev(page))
                {
                    if (!_pages.Test(page, PG.Dirty) || _pages.Test(page, PG.Writeback | PG.Locked)) continue;
                    _pages.Clear(page, PG.Dirty); // clear_page_dirty_for_io
                    _node.ZoneOf(page).Stat.Add((int)ZoneStat.NrDirty, -1); // the page's zone (a node lruvec mixes them)
                    StartWriteback(page);
                    nrPages--;
                }
            }
        }
    }

    /// <summary>
    /// end_page_writeback: a PG_reclaim page is rotated for reclaim, then PG_writeback is cleared; 6.1's
    /// folio_end_writeback then counts the page for reclaimers throttled on writeback (acct_reclaim_writeback).
    /// </summary>
    [Preemptible]
    private void EndPageWriteback(int pfn)
    {
        if (_pages.Test(pfn, PG.Reclaim))
        {
            _pages.Clear(pfn, PG.Reclaim);
            _lru.RotateReclaimablePage(pfn);
        }
        var zone = _node.ZoneOf(pfn);
        _pages.Clear(pfn, PG.Writeback);
        zone.Stat.Add((int)ZoneStat.NrWriteback, -1);
        zone.Stat.Add((int)ZoneStat.NrWritten, 1);
        _reclaimAccounting?.AcctReclaimWriteback();
    }
}
