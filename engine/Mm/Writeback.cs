using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Writeback at the level of page state (mm/page-writeback.c, mm/filemap.c, v3.16): a write starts with
/// set_page_writeback (PG_writeback, NR_WRITEBACK) and completes <see cref="SimulationOptions.IoLatencyMs"/> later
/// with end_page_writeback (a PG_reclaim page is rotated to the tail of its inactive list for reclaim; NR_WRITTEN).
/// A latency of 0 completes the write at once, as a synchronous device (zram's rw_page) does.
/// </summary>
internal sealed class Writeback
{
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly Node _node;
    private readonly SimClock _clock;
    private readonly long _latencyNs;
    private readonly Lru _lru;
    private readonly VmStat _vmstat;

    public Writeback(PageTable pages, PageLists lists, Node node, Lru lru, SimClock clock, VmStat vmstat, SimulationOptions options)
    {
        _vmstat = vmstat;
        _pages = pages;
        _lists = lists;
        _node = node;
        _lru = lru;
        _clock = clock;
        _latencyNs = (long)Math.Round(options.IoLatencyMs * 1_000_000);
        clock.Handle(TimerKind.WritebackDone, pfn => EndPageWriteback((int)pfn));
    }

    /// <summary>set_page_writeback, and the I/O completing after the device latency.</summary>
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

    /// <summary>end_page_writeback: a PG_reclaim page is rotated for reclaim, then PG_writeback is cleared.</summary>
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
    }
}
