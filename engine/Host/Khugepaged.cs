using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Host;

/// <summary>
/// The host's khugepaged thread (Linux 6.1.78 mm/khugepaged.c, read: <c>khugepaged</c>, <c>khugepaged_do_scan</c>,
/// <c>khugepaged_scan_mm_slot</c>, <c>khugepaged_wait_work</c>) over QEMU's guest RAM, with host THP on
/// (<see cref="SimulationOptions.HostThp"/>): the first huge page fault in guest RAM registers QEMU's mm
/// (<c>do_huge_pmd_anonymous_page</c>'s <c>khugepaged_enter_vma</c>; QEMU's MADV_HUGEPAGE came before the RAM had an
/// anon_vma, so <c>hugepage_vma_check</c> refused it then), which wakes the thread at once; each wake-up scans
/// pages_to_scan pages' worth, a 2 MiB region at a time from where the last one stopped (<see cref="RamBlock.HpageCollapseScanPmd"/>: a region a discard split is collapsed into a
/// huge page again, its holes zeroed, while it has no more than max_ptes_none empty entries), then sleeps
/// scan_sleep_millisecs. A region costs HPAGE_PMD_NR (512) of the budget and the mm one more each time the scan enters it,
/// so the defaults cover 8 regions (16 MiB) every 10 s. A collapse, or one whose huge page QEMU's memory cgroup could not
/// charge (SCAN_CGROUP_CHARGE_FAIL), drops mmap_lock, which ends the mm's pass (the next goes on from the next region); once the last region is scanned a full scan is counted, and one wake-up starts over from
/// the first region at most once (<c>pass_through_head</c>).
/// <para>
/// Simplified: QEMU's mm is the only one registered and its other mappings are not scanned (with THP enabled "always",
/// QEMU's own memory would register it at its start, and each VMA would add to the budget), nor are the regions a
/// partial last 2 MiB leaves (outside the VMA's huge-aligned range, as in the kernel); the scan takes no time. After a
/// migration the destination's khugepaged starts afresh (its counts too) and registers QEMU's mm at its first huge
/// fault, when the switch-over writes the guest's RAM there (the destination's RAM is not modelled before).
/// </para>
/// </summary>
internal sealed class Khugepaged : ISnapshotState
{
    /// <summary>
    /// khugepaged_scan_sleep_millisecs' default: 10,000 in the mainline 6.x tree read (CachyOS/linux), as in every
    /// mainline copy found; the 6.1.78 tree read, an Android vendor's, sets 30,000.
    /// </summary>
    public const int DefaultScanSleepMs = 10_000;

    /// <summary>khugepaged_init: HPAGE_PMD_NR - 1, the most empty entries a region may have and still be collapsed.</summary>
    public const int DefaultMaxPtesNone = (1 << RamBlock.HpageOrder) - 1;

    /// <summary>The largest scan_sleep_millisecs the simulation takes (an hour); the kernel's 0 (no sleep) is refused.</summary>
    public const int MaxScanSleepMs = 3_600_000;

    /// <summary>khugepaged_init: HPAGE_PMD_NR * 8.</summary>
    public const int DefaultPagesToScan = (1 << RamBlock.HpageOrder) * 8;

    /// <summary>
    /// The counts and settings <see cref="Stats"/> gives, in order (the sysfs and /proc/vmstat names, but for
    /// ScanCgroupChargeFail, named after the scan's result).
    /// </summary>
    public enum Stat { PagesCollapsed, FullScans, ThpScanExceedNonePte, ScanCgroupChargeFail, PagesToScan, ScanSleepMillisecs, MaxPtesNone }

    /// <summary>The names of <see cref="Stat"/> in snake case, as the Python API gives them.</summary>
    public static readonly string[] StatNames = [.. Enum.GetNames<Stat>().Select(SimulationOptions.Snake)];

    private readonly RamBlock _ram;
    private readonly SimClock _clock;
    private readonly long _sleepNs;
    private readonly int _maxPtesNone;
    private readonly int _pagesToScan;

    /// <summary>
    /// [the cursor is in the mm (khugepaged_scan.mm_slot set), the next region (khugepaged_scan.address), the counts,
    /// QEMU's mm registered (MMF_VM_HUGEPAGE), the wake-up's generation (the destination's thread replaces the source's)].
    /// </summary>
    private readonly SharedArray _state;
    private const int InMmIndex = 0, AddressIndex = 1, CollapsedIndex = 2, FullScansIndex = 3, ExceedNoneIndex = 4,
        ChargeFailIndex = 5, RegisteredIndex = 6, GenerationIndex = 7;

    public Khugepaged(RamBlock ram, SimClock clock, Scheduler scheduler, SimulationOptions options)
    {
        _ram = ram;
        _clock = clock;
        _sleepNs = (options.HostKhugepagedScanSleepMs ?? DefaultScanSleepMs) * 1_000_000L;
        _maxPtesNone = options.HostKhugepagedMaxPtesNone ?? DefaultMaxPtesNone;
        _pagesToScan = options.HostKhugepagedPagesToScan ?? DefaultPagesToScan;
        _state = new SharedArray(scheduler, GenerationIndex + 1);
        if (!options.HostThp) return; // start_stop_khugepaged: the thread runs while THP is enabled
        clock.Handle(TimerKind.KhugepagedScan, Wake);
        ram.OnHugeFault(Enter);
    }

    /// <summary>
    /// The counts (pages_collapsed, full_scans, thp_scan_exceed_none_pte, and the collapses that ended with
    /// SCAN_CGROUP_CHARGE_FAIL, which only the mm_collapse_huge_page tracepoint reports) and the settings (pages_to_scan,
    /// scan_sleep_millisecs, max_ptes_none), in <see cref="Stat"/> order.
    /// </summary>
    public long[] Stats() =>
        [_state[CollapsedIndex], _state[FullScansIndex], _state[ExceedNoneIndex], _state[ChargeFailIndex], _pagesToScan,
            _sleepNs / 1_000_000, _maxPtesNone];

    /// <summary>
    /// The guest's RAM is about to be a new QEMU's (the migration's destination): its khugepaged starts afresh, nothing
    /// registered, and the source's sleeping thread wakes no more.
    /// </summary>
    public void Restart()
    {
        for (int i = 0; i < GenerationIndex; i++) _state.Set(i, 0);
        _state.Set(GenerationIndex, _state[GenerationIndex] + 1);
    }

    /// <summary>
    /// __khugepaged_enter at a huge page fault: the first registers QEMU's mm and wakes the thread (the list was empty): a
    /// scan now, then the sleep. Nothing is split yet then, so that scan only moves the cursor.
    /// </summary>
    private void Enter()
    {
        if (_state[RegisteredIndex] != 0) return;
        _state.Set(RegisteredIndex, 1);
        _state.Set(GenerationIndex, _state[GenerationIndex] + 1);
        Wake(_state[GenerationIndex]);
    }

    /// <summary>The thread's loop once: khugepaged_do_scan, then khugepaged_wait_work's sleep.</summary>
    private void Wake(long generation)
    {
        if (generation != _state[GenerationIndex]) return;
        DoScan();
        _clock.AddTimer(_clock.NowNs + _sleepNs, TimerKind.KhugepagedScan, generation);
    }

    /// <summary>khugepaged_do_scan: the mm's passes until the budget is spent, starting over from the first region at most once.</summary>
    private void DoScan()
    {
        long progress = 0;
        int passThroughHead = 0;
        while (progress < _pagesToScan)
        {
            if (_state[InMmIndex] == 0) passThroughHead++;
            if (passThroughHead < 2) progress += ScanMmSlot(_pagesToScan - progress);
            else progress = _pagesToScan;
        }
    }

    /// <summary>khugepaged_scan_mm_slot over guest RAM: its regions from the cursor on; the progress it made.</summary>
    private long ScanMmSlot(long pages)
    {
        if (_state[InMmIndex] == 0)
        {
            _state.Set(InMmIndex, 1);
            _state.Set(AddressIndex, 0);
        }
        long progress = 1;
        for (int region = (int)_state[AddressIndex]; region < _ram.WholeRegions; )
        {
            var result = _ram.HpageCollapseScanPmd(region, _maxPtesNone);
            if (result == RamBlock.ScanResult.Succeed) _state.Add(CollapsedIndex, 1);
            if (result == RamBlock.ScanResult.ExceedNonePte) _state.Add(ExceedNoneIndex, 1);
            if (result == RamBlock.ScanResult.CgroupChargeFail) _state.Add(ChargeFailIndex, 1);
            _state.Set(AddressIndex, ++region);
            progress += 1 << RamBlock.HpageOrder;
            // collapse_huge_page drops mmap_lock whatever it returns, which ends the pass; or the budget is spent
            if (result is RamBlock.ScanResult.Succeed or RamBlock.ScanResult.CgroupChargeFail || progress >= pages) return progress;
        }
        _state.Set(InMmIndex, 0); // no VMA left: the mm is scanned whole
        _state.Add(FullScansIndex, 1);
        return progress;
    }

    public object Save() => _state.Save();

    public void Restore(object saved) => _state.Restore((long[])saved);
}
