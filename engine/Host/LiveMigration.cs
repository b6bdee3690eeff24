using System.Numerics;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Host;

/// <summary>
/// QEMU's precopy live migration of the guest's RAM (migration/migration.c and migration/ram.c of QEMU 5.x, read, with
/// 6.1's clear of a hinted block's dirty log), as the balloon and free page hinting change it. Setup sets every frame in
/// the migration bitmap, turns the dirty log on (every frame dirty at first) and syncs (<c>ram_init_bitmaps</c>); each
/// sync marks every 1 GiB chunk's log to be cleared just before the chunk's first frame is sent or hinted
/// (<c>clear_bmap</c>, <see cref="ClearChunk"/>), so a frame written before its chunk is reached goes once. Every <see cref="BufferDelayNs"/> (the rate limit's period, BUFFER_DELAY) one
/// iteration runs (<c>migration_iteration_run</c>): when what is left to send is below the threshold — the bandwidth
/// times the downtime limit — it syncs the bitmap with the dirty log first (<c>ram_save_pending</c>), and if what is left
/// is still below it, completes; else it sends frames from the bitmap in PFN order, wrapping around, until the period's
/// share of the bandwidth is used (<c>ram_find_and_save_block</c>, <c>qemu_file_rate_limit</c>). A frame that holds what the
/// guest wrote is sent whole (<c>save_normal_page</c>: an 8-byte header and 4 KiB); one the host does not back, or backs
/// with a huge page's zeros the guest never wrote, reads as zeros and is sent as a zero page (<c>save_zero_page</c>:
/// the header and one byte; <c>buffer_is_zero</c>). Completion stops the guest, syncs once more and sends
/// what is dirty; the downtime is that last transfer at the bandwidth. Each sync is wrapped in the precopy notifier's
/// calls (<c>migration_bitmap_sync_precopy</c>), which stop free page hinting before it and start a new hint command after
/// it while the guest runs, or end hinting (DONE) once it is stopped. A hinted free block clears its frames from the
/// bitmap (<c>qemu_guest_free_page_hint</c>): they are not sent unless the guest writes them again, which the dirty log
/// records and the next sync puts back. A frame written after its chunk's clear and before it is sent goes in this pass and
/// again after the next sync.
/// <para>
/// After completion the guest runs on the destination (<see cref="RamBlock.MoveToDestination"/>): its RAM holds the
/// frames sent whole; a zero page or a frame never sent is left untouched there.
/// </para>
/// <para>
/// Simplified: the threshold uses the bandwidth set rather than the one QEMU measures every period; what is left is looked
/// at once a period (QEMU's thread looks between sends); the host's CPU time
/// (reading pages, checking them for zeros) is not modelled, only the link's bytes; the guest's clock does not move over
/// the downtime; no device state, compression, multifd, XBZRLE, auto-converge or postcopy.
/// </para>
/// </summary>
internal sealed class LiveMigration : ISnapshotState
{
    /// <summary>BUFFER_DELAY: the rate limit's period, 100 ms; each period may use a tenth of a second's bandwidth.</summary>
    public const long BufferDelayNs = 100_000_000;

    /// <summary>save_page_header with RAM_SAVE_FLAG_CONTINUE (the same RAMBlock as the page before): the offset and flags, 8 bytes.</summary>
    public const int PageHeaderBytes = 8;

    /// <summary>A page sent whole: the header and TARGET_PAGE_SIZE.</summary>
    public const int NormalPageBytes = PageHeaderBytes + TargetPageSize;

    /// <summary>TARGET_PAGE_SIZE: a guest frame, 4 KiB.</summary>
    private const int TargetPageSize = 4096;

    /// <summary>A zero page: the header (RAM_SAVE_FLAG_ZERO) and one byte.</summary>
    public const int ZeroPageBytes = PageHeaderBytes + 1;

    /// <summary>No migration yet, one running, or the last one completed (QEMU's MIGRATION_STATUS_*), or cancelled.</summary>
    public enum Status { None = 0, Active = 1, Completed = 2, Cancelled = 3 }

    private readonly RamBlock _ram;
    private readonly Khugepaged _khugepaged;
    private readonly FreePageHints _hints;
    private readonly SimClock _clock;
    private readonly int _nrPages;

    /// <summary>rb-&gt;bmap: the frames still to send; allocated by the first migration.</summary>
    private ulong[]? _bmap;

    /// <summary>The frames sent whole (what the destination's RAM holds).</summary>
    private ulong[]? _sent;

    /// <summary>
    /// rb-&gt;clear_bmap: per chunk of 2^<see cref="ClearBitmapShift"/> frames, whether its bits in the dirty log still
    /// wait to be cleared since the last sync.
    /// </summary>
    private bool[]? _clearBmap;

    /// <summary>CLEAR_BITMAP_SHIFT_DEFAULT: the dirty log is cleared a chunk of 2^18 frames (1 GiB) at a time.</summary>
    public const int ClearBitmapShift = 18;

    /// <summary>Migrations started so far: an iteration's timer carries its migration's number, so a cancelled one's stops.</summary>
    private long _generation;

    /// <summary>The counts and settings, in <see cref="Stat"/> order.</summary>
    private readonly long[] _stats = new long[(int)Stat.Cursor + 1];

    /// <summary>
    /// What <see cref="Stats"/> gives, in order (QEMU's <c>info migrate</c> names where it has them), then the PFN the
    /// search goes on from.
    /// </summary>
    public enum Stat
    {
        Status, BandwidthBytesPerS, DowntimeLimitMs, StartNs, TotalTimeNs, DowntimeNs, Transferred, Normal, Duplicate,
        Remaining, DirtySyncCount, HintedPages, Cursor,
    }

    private const int StatCount = (int)Stat.Cursor;

    /// <summary>The names of <see cref="Stat"/> in snake case, as the Python API gives them.</summary>
    public static readonly string[] StatNames = [.. Enum.GetNames<Stat>()[..StatCount].Select(SimulationOptions.Snake)];

    public LiveMigration(RamBlock ram, Khugepaged khugepaged, FreePageHints hints, SimClock clock, PageTable pages)
    {
        _ram = ram;
        _khugepaged = khugepaged;
        _hints = hints;
        _clock = clock;
        _nrPages = pages.NrPages;
        clock.Handle(TimerKind.MigrationIteration, generation => Iterate(generation));
        hints.Attach(this);
    }

    public Status CurrentStatus => (Status)_stats[(int)Stat.Status];

    public bool Active => CurrentStatus == Status.Active;

    /// <summary>Frames still to send (QEMU's migration_dirty_pages; 0 before the first migration).</summary>
    public long Remaining => _stats[(int)Stat.Remaining];

    /// <summary>Bytes sent so far by the running or last migration.</summary>
    public long Transferred => _stats[(int)Stat.Transferred];

    /// <summary>
    /// The counts of the running or last migration (<see cref="Stat"/> order); while one runs its total time is the time
    /// so far, as <c>info migrate</c> gives it (QEMU's populate_time_info).
    /// </summary>
    public long[] Stats()
    {
        var stats = _stats[..StatCount];
        if (Active) stats[(int)Stat.TotalTimeNs] = _clock.NowNs - S(Stat.StartNs);
        return stats;
    }

    private ref long S(Stat stat) => ref _stats[(int)stat];

    /// <summary>
    /// <c>migrate</c> with max-bandwidth <paramref name="bandwidthBytesPerS"/> and downtime-limit
    /// <paramref name="downtimeLimitMs"/>: the setup (ram_save_setup), and the first iteration at once.
    /// </summary>
    public void Start(long bandwidthBytesPerS, long downtimeLimitMs)
    {
        _bmap ??= new ulong[(_nrPages + 63) >> 6];
        _sent ??= new ulong[_bmap.Length];
        _clearBmap ??= new bool[((_nrPages - 1) >> ClearBitmapShift) + 1];
        Array.Clear(_stats);
        Array.Clear(_sent);
        Array.Fill(_bmap, ulong.MaxValue);
        if ((_nrPages & 63) != 0) _bmap[^1] = (1UL << (_nrPages & 63)) - 1;
        S(Stat.Status) = (long)Status.Active;
        S(Stat.BandwidthBytesPerS) = bandwidthBytesPerS;
        S(Stat.DowntimeLimitMs) = downtimeLimitMs;
        S(Stat.StartNs) = _clock.NowNs;
        S(Stat.Remaining) = _nrPages;
        _ram.SetDirtyLog(true);
        SyncPrecopy(vmRunning: true);
        _clock.AddTimer(_clock.NowNs, TimerKind.MigrationIteration, ++_generation);
    }

    /// <summary><c>migrate_cancel</c>: the cleanup's notifier call ends hinting (DONE), and the dirty log goes off.</summary>
    public void Cancel()
    {
        if (!Active) return;
        _hints.Done();
        _ram.SetDirtyLog(false);
        S(Stat.Status) = (long)Status.Cancelled;
        S(Stat.TotalTimeNs) = _clock.NowNs - S(Stat.StartNs);
    }

    /// <summary>The threshold below which what is left may be sent in the downtime: bandwidth × downtime limit.</summary>
    private long ThresholdBytes => (long)((Int128)S(Stat.BandwidthBytesPerS) * S(Stat.DowntimeLimitMs) / 1000);

    /// <summary>migration_iteration_run, once a period, for migration <paramref name="generation"/>; the next is armed unless it completed.</summary>
    private void Iterate(long generation)
    {
        if (!Active || generation != _generation) return;
        long threshold = ThresholdBytes;
        if (S(Stat.Remaining) * TargetPageSize < threshold) SyncPrecopy(vmRunning: true);
        long pending = S(Stat.Remaining) * TargetPageSize;
        if (pending == 0 || pending < threshold)
        {
            Complete();
            return;
        }
        Send(S(Stat.BandwidthBytesPerS) * BufferDelayNs / 1_000_000_000);
        _clock.AddTimer(_clock.NowNs + BufferDelayNs, TimerKind.MigrationIteration, generation);
    }

    /// <summary>
    /// migration_completion: the guest stops, ram_save_complete syncs (hinting ends: DONE) and sends every dirty frame;
    /// the downtime is that transfer at the bandwidth. The guest then runs on the destination.
    /// </summary>
    private void Complete()
    {
        S(Stat.Status) = (long)Status.Completed;
        SyncPrecopy(vmRunning: false);
        long before = S(Stat.Transferred);
        Send(long.MaxValue);
        _ram.SetDirtyLog(false);
        S(Stat.DowntimeNs) = (long)((Int128)(S(Stat.Transferred) - before) * 1_000_000_000 / S(Stat.BandwidthBytesPerS));
        S(Stat.TotalTimeNs) = _clock.NowNs + S(Stat.DowntimeNs) - S(Stat.StartNs);
        _khugepaged.Restart();
        _ram.MoveToDestination(_sent!);
    }

    /// <summary>
    /// migration_bitmap_sync_precopy: the notifier before the sync (hinting stops), the dirty log read into the bitmap,
    /// the notifier after it (a new hint command while the guest runs, DONE once it is stopped: <paramref name="vmRunning"/>).
    /// </summary>
    private void SyncPrecopy(bool vmRunning)
    {
        _hints.Stop();
        S(Stat.DirtySyncCount)++;
        S(Stat.Remaining) += _ram.SyncDirtyLog(_bmap!);
        Array.Fill(_clearBmap!, true); // cpu_physical_memory_sync_dirty_bitmap: the clear postponed to each chunk's first send
        if (vmRunning) _hints.Start();
        else _hints.Done();
    }

    /// <summary>Send frames from the bitmap, from where the last search stopped, until <paramref name="budget"/> bytes are used or none is left.</summary>
    private void Send(long budget)
    {
        var bmap = _bmap!;
        int pfn = (int)S(Stat.Cursor);
        while (budget > 0 && S(Stat.Remaining) > 0)
        {
            pfn = NextDirty(bmap, pfn);
            ClearChunk(pfn);
            bmap[pfn >> 6] &= ~(1UL << pfn);
            S(Stat.Remaining)--;
            int bytes;
            if (_ram.HoldsData(pfn))
            {
                _sent![pfn >> 6] |= 1UL << pfn;
                S(Stat.Normal)++;
                bytes = NormalPageBytes;
            }
            else
            {
                S(Stat.Duplicate)++;
                bytes = ZeroPageBytes;
            }
            S(Stat.Transferred) += bytes;
            budget -= bytes;
            pfn = pfn + 1 == _nrPages ? 0 : pfn + 1;
        }
        S(Stat.Cursor) = pfn;
    }

    /// <summary>
    /// migration_clear_memory_region_dirty_bitmap: before the first frame of a chunk is sent (or skipped as hinted) after
    /// a sync, the chunk's bits in the dirty log are cleared, so that what the guest writes from then on is logged.
    /// </summary>
    private void ClearChunk(int pfn)
    {
        int chunk = pfn >> ClearBitmapShift;
        if (!_clearBmap![chunk]) return;
        _clearBmap[chunk] = false;
        _ram.ClearDirtyLog(chunk << ClearBitmapShift, Math.Min((chunk + 1) << ClearBitmapShift, _nrPages));
    }

    /// <summary>migration_bitmap_find_dirty from <paramref name="pfn"/>, wrapping to the start (at least one bit is set).</summary>
    private int NextDirty(ulong[] bmap, int pfn)
    {
        int w = pfn >> 6;
        ulong word = bmap[w] & (ulong.MaxValue << (pfn & 63));
        while (word == 0)
        {
            w = w + 1 == bmap.Length ? 0 : w + 1;
            word = bmap[w];
        }
        return (w << 6) + BitOperations.TrailingZeroCount(word);
    }

    /// <summary>
    /// qemu_guest_free_page_hint (QEMU 6.1 and later): the <paramref name="n"/> frames from <paramref name="pfn"/> are free
    /// in the guest; their chunks' dirty log is cleared as for a send (migration_clear_memory_region_dirty_bitmap_range:
    /// before 6.1 the log's bits came back at the next sync and the hinted frames were sent all the same), and those still
    /// to send are cleared from the bitmap (and counted as hinted). Nothing while no migration runs.
    /// </summary>
    public void GuestFreePageHint(int pfn, int n)
    {
        if (!Active) return;
        for (int chunk = pfn >> ClearBitmapShift; chunk <= (pfn + n - 1) >> ClearBitmapShift; chunk++) ClearChunk(chunk << ClearBitmapShift);
        var bmap = _bmap!;
        for (int f = pfn; f < pfn + n; f++)
        {
            ulong bit = 1UL << f;
            if ((bmap[f >> 6] & bit) == 0) continue;
            bmap[f >> 6] &= ~bit;
            S(Stat.Remaining)--;
            S(Stat.HintedPages)++;
        }
    }

    public object Save() =>
        ((long[])_stats.Clone(), (ulong[]?)_bmap?.Clone(), (ulong[]?)_sent?.Clone(), (bool[]?)_clearBmap?.Clone(), _generation);

    public void Restore(object saved)
    {
        var (stats, bmap, sent, clearBmap, generation) = ((long[], ulong[]?, ulong[]?, bool[]?, long))saved;
        stats.CopyTo(_stats, 0);
        _generation = generation;
        _clearBmap = (bool[]?)clearBmap?.Clone();
        _bmap = (ulong[]?)bmap?.Clone();
        _sent = (ulong[]?)sent?.Clone();
    }
}
