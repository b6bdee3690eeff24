using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Host;

/// <summary>
/// The hypervisor's side of the virtio balloon: its own ledger (a bitmap) of the guest frames it holds as
/// ballooned, in 4 KiB balloon PFNs (= guest PFNs on x86). Only what <c>tell_host</c> puts on a queue changes
/// it. A frame inflated while already ballooned, or deflated while not ballooned, means guest and host
/// disagree: a <c>host_mismatch</c> report, and the ledger keeps its state. An inflated frame, and each frame of a free
/// page report, is discarded from the guest's <see cref="RamBlock"/>: QEMU keeps no ledger and discards whatever the
/// inflate queue names (<c>virtio_balloon_handle_output</c>), so a frame inflated twice is discarded again. For
/// partial-order reduction every access is recorded: the ledger by PFN (as <c>struct page</c>), the counts and the
/// config space as shared values.
/// </summary>
internal sealed class BalloonHost(PageTable pages, RamBlock ram, Sanitizer sanitizer, SimulationOptions options, Scheduler scheduler) : ISnapshotState
{
    /// <summary>
    /// The fixed part of the host's answer to a kick (the VM exit, the virtqueue walk, the interrupt back): 20 µs,
    /// as for a KVM guest.
    /// </summary>
    public const long KickNs = 20_000;

    private readonly long _nsPerPfn = (long)Math.Round(options.HostUsPerPage * 1000);

    /// <summary>
    /// How long the host takes to acknowledge a buffer of <paramref name="pfns"/> PFNs: <see cref="KickNs"/> plus
    /// the per-page work (QEMU discards each inflated 4 KiB frame with its own madvise(MADV_DONTNEED)).
    /// </summary>
    public long AckNs(int pfns) => KickNs + pfns * _nsPerPfn;

    private readonly bool[] _ballooned = new bool[pages.NrPages];

    /// <summary>[<see cref="BalloonedIndex"/>, <see cref="TargetIndex"/>, <see cref="ActualIndex"/>, <see cref="ReportedIndex"/>, <see cref="ReportsIndex"/>].</summary>
    private readonly SharedArray _counts = new(scheduler, 5);
    private const int BalloonedIndex = 0, TargetIndex = 1, ActualIndex = 2, ReportedIndex = 3, ReportsIndex = 4;

    /// <summary>Frames the host holds as ballooned.</summary>
    public long Ballooned => _counts[BalloonedIndex];

    /// <summary>Frames the host has discarded on free page reports, in all (a frame reported again counts again).</summary>
    public long ReportedPages => _counts[ReportedIndex];

    /// <summary>Free page reports (buffers on the reporting virtqueue) the host has handled.</summary>
    public long Reports => _counts[ReportsIndex];

    public bool IsBallooned(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _ballooned[pfn];
    }

    /// <summary>The ledger, read-only (the balloon check skips the runs of frames the host does not hold).</summary>
    public ReadOnlySpan<bool> BalloonedSpan
    {
        get
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Global();
            return _ballooned;
        }
    }

    /// <summary>The config space's <c>num_pages</c>: the balloon size the host asks for, in 4 KiB balloon pages.</summary>
    public long TargetPages
    {
        get => _counts[TargetIndex];
        private set => _counts.Set(TargetIndex, value);
    }

    /// <summary>The config space's <c>actual</c>: the size the guest last reported (update_balloon_size).</summary>
    public long ActualPages
    {
        get => _counts[ActualIndex];
        set => _counts.Set(ActualIndex, value);
    }

    /// <summary>The config-change interrupt (virtballoon_changed), raised when the host writes a new target.</summary>
    public event Action? ConfigChanged;

    /// <summary>virtio_notify_config: the config-change interrupt for a change other than the target's (free page hinting's command id).</summary>
    public void NotifyConfig() => ConfigChanged?.Invoke();

    /// <summary>The target as a synchronous inflate or deflate sets it around its own work (no interrupt: the caller drives the driver).</summary>
    public void SetTargetQuietly(long pages) => TargetPages = pages;

    /// <summary>The host asks for a balloon of <paramref name="pages"/> (QEMU's <c>balloon N</c> asks for a guest of N MiB: a balloon of memory − N).</summary>
    public void SetTarget(long pages)
    {
        TargetPages = pages;
        ConfigChanged?.Invoke();
    }

    public object Save() => (_ballooned.Clone(), _counts.Save());

    public void Restore(object saved)
    {
        var (ballooned, counts) = ((object, long[]))saved;
        ((bool[])ballooned).CopyTo(_ballooned, 0);
        _counts.Restore(counts);
    }

    /// <summary>
    /// QEMU's virtio_balloon_handle_report: each block of the report is discarded (ram_block_discard_range: the host
    /// frees the memory behind it, and the guest's next write of a frame there faults in a zeroed page, a
    /// <see cref="RamBlock.Refaults"/>). The host keeps no ledger of reported blocks: the guest may take one again without
    /// telling. Returns the frames.
    /// </summary>
    public int ReceiveReport(ReadOnlySpan<int> pfns, ReadOnlySpan<int> orders)
    {
        int frames = 0;
        for (int i = 0; i < pfns.Length; i++)
        {
            for (int pfn = pfns[i]; pfn < pfns[i] + (1 << orders[i]); pfn++) CheckHoldsNoData(pfn, "a free page report");
            ram.Discard(pfns[i], 1 << orders[i]);
            frames += 1 << orders[i];
        }
        _counts.Add(ReportedIndex, frames);
        _counts.Add(ReportsIndex, 1);
        return frames;
    }

    /// <summary>
    /// A frame the host is about to discard must hold nothing the guest still uses (data, a page table, a kernel block):
    /// after the discard the guest would read zeros there. A <c>data_corruption</c> finding if it does.
    /// </summary>
    private void CheckHoldsNoData(int pfn, string what)
    {
        var kind = (PageKind)pages.Kind[pfn];
        if (pages.Content[pfn] == 0 && kind is PageKind.Free or PageKind.Balloon or PageKind.Isolated) return;
        sanitizer.Report(ReportKind.DataCorruption, pfn,
            $"host: {what} discards pfn {pfn}, which holds the guest's {kind} data: the guest will read zeros there ({pages.DumpPage(pfn)})");
    }

    /// <summary>Handle one buffer of PFNs the guest kicked on <paramref name="vq"/>.</summary>
    public void Receive(VirtQueue vq, ReadOnlySpan<long> pfns)
    {
        bool inflate = vq == VirtQueue.Inflate;
        foreach (int pfn in pfns)
        {
            if (pfn < 0 || pfn >= _ballooned.Length)
            {
                sanitizer.Report(ReportKind.HostMismatch, pfn, $"host: {vq} of pfn {pfn}, outside guest memory [0, {_ballooned.Length})");
                continue;
            }
            if (inflate)
            {
                CheckHoldsNoData(pfn, "an inflation");
                ram.Discard(pfn); // balloon_inflate_page; balloon_deflate_page's MADV_WILLNEED maps nothing in
            }
            if (IsBallooned(pfn) == inflate)
            {
                sanitizer.Report(ReportKind.HostMismatch, pfn,
                    inflate ? $"host: inflate of pfn {pfn}, which the host already holds as ballooned"
                            : $"host: deflate of pfn {pfn}, which the host does not hold as ballooned");
                continue;
            }
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
            _ballooned[pfn] = inflate;
            pages.Changes.Mark(pfn); // the balloon check compares the ledger with the page
            _counts.Add(BalloonedIndex, inflate ? 1 : -1);
        }
    }
}
