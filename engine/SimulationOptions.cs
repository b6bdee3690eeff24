using System.Reflection;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine;

/// <summary>
/// Everything that defines a simulation. Validated once, up front (<see cref="Validate"/>), before any
/// service is built, so a bad value never leaves a half-built simulation behind.
/// </summary>
public sealed record SimulationOptions
{
    public const long MinMemoryMib = 16;
    public const long MaxMemoryMib = 65536;
    public const int MaxCpus = 64;

    /// <summary>Guest memory in MiB, [16, 65536].</summary>
    public long MemoryMib { get; init; } = 1024;

    /// <summary>The kernel design (<see cref="KernelDesign.All"/>): which version of each kernel part the simulation is composed of.</summary>
    public KernelDesign Design { get; init; } = KernelDesign.Legacy;

    /// <summary>Simulated CPUs, [1, 64].</summary>
    public int Cpus { get; init; } = 2;

    /// <summary>Seed of every random choice the simulation makes.</summary>
    public long Seed { get; init; }

    /// <summary>Run the whole-memory checks at boot and after each top-level operation.</summary>
    public bool CheckAccounting { get; init; } = true;

    /// <summary>Model the per-cpu page lists (v3.16 zone-&gt;pageset) in front of the buddy lists for order-0 pages.</summary>
    public bool PerCpuLists { get; init; } = true;

    /// <summary>CONFIG_HZ: timer ticks per second, one of 100, 250 (the default), 300, 1000.</summary>
    public int Hz { get; init; } = 250;

    /// <summary>
    /// CPU time (ms) a kernel path runs before the timer tick sets need_resched, as CFS does once a task has run
    /// its slice with other work waiting; [0, 1000]; 0 = never. The default, 6 ms, is a CFS slice with two tasks
    /// on a CPU of a 2-CPU guest (sched_latency 6 ms × (1 + ilog2 2), shared by two).
    /// </summary>
    public double TimesliceMs { get; init; } = 6;

    /// <summary>
    /// Model reclaim (v3.16 mm/vmscan.c: kswapd, direct reclaim, the OOM killer). Off, the allocator's slow path
    /// has no reclaim to fall back on (the pre-pressure model; docs/model.md).
    /// </summary>
    public bool Reclaim { get; init; } = true;

    /// <summary>Model the per-cpu LRU-add batch in front of the LRU lists (v3.16 mm/swap.c lru_add_pvec, 6.1 cpu_fbatches.lru_add).</summary>
    public bool Pagevecs { get; init; } = true;

    /// <summary>Swap space in MiB, [0, 65536]; 0 = no swap (anonymous pages cannot be reclaimed).</summary>
    public long SwapMib { get; init; }

    /// <summary>
    /// How long the disk takes for a page, in ms, [0, 10000]; 0 = at once: a write (page-cache writeback, swap-out)
    /// completes this much later, and a task that needs a read (a major swap fault, a page-cache page read back) waits
    /// this long for it.
    /// </summary>
    public double IoLatencyMs { get; init; } = 2;

    /// <summary><see cref="IoLatencyMs"/> in the clock's nanoseconds.</summary>
    internal long IoLatencyNs => (long)Math.Round(IoLatencyMs * 1_000_000);

    /// <summary>
    /// The host's time per ballooned page, in µs, [0, 1000], on top of a fixed 20 µs per kick: QEMU discards each
    /// inflated 4 KiB frame with its own madvise(MADV_DONTNEED), about 1 µs (the default, an estimate, not a
    /// measurement); 0 = only the fixed cost.
    /// </summary>
    public double HostUsPerPage { get; init; } = 1;

    /// <summary>
    /// Sanitizer findings kept in full per kind, [1, 10⁹]; later ones are counted only
    /// (<see cref="Simulation.ReportCounts"/> has every count).
    /// </summary>
    public int MaxReportsPerKind { get; init; } = 1000;

    /// <summary>
    /// vm.compaction_proactiveness (5.9+): how hard kcompactd compacts in the background, [0, 100]; 0 turns proactive
    /// compaction off. Unset: the kernel's default, 20. Only designs with 6.1 compaction have it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? CompactionProactiveness { get; init; }

    /// <summary>
    /// vm.watermark_boost_factor (5.0+): how far fragmenting fallbacks may boost a zone's watermarks, in 1/10000 of its
    /// high mark, [0, 2^31−1]; 0 turns boosting off. Unset: 15000. Only designs with the 6.1 page allocator have it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? WatermarkBoostFactor { get; init; }

    /// <summary>
    /// vm.watermark_scale_factor (4.6+): the distance between the min, low and high watermarks, in 1/10000 of a zone's
    /// managed pages, [1, 3000]. Unset: 10. Only designs with the 6.1 page allocator have it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? WatermarkScaleFactor { get; init; }

    /// <summary>
    /// The host offers VIRTIO_BALLOON_F_DEFLATE_ON_OOM (QEMU's <c>deflate-on-oom=on</c>; off by default): the driver then
    /// leaks 256 pages from the balloon at each OOM instead of a kill, and ballooned pages stay in managed_pages.
    /// Only designs whose driver has the feature (v3.19+: fixed, movable, v6.1) negotiate it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public bool DeflateOnOom { get; init; }

    /// <summary>
    /// The host offers VIRTIO_BALLOON_F_REPORTING (QEMU's <c>free-page-reporting=on</c>; off by default): the driver
    /// registers free page reporting (v5.7+), which tells the host of free blocks of pageblock order and up two seconds
    /// after they are freed, and the host discards them. Only designs with the 6.1 page allocator (v6.1) have it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public bool FreePageReporting { get; init; }

    /// <summary>
    /// page_reporting.page_reporting_order, [0, 10], as written to /sys/module/page_reporting/parameters after the
    /// driver's probe (6.1's page_reporting_register overwrites a value given at boot with the device's order, pageblock
    /// order on x86): the smallest free block reported, and the order of the 32 blocks a zone must have free above its low
    /// watermark to be reported at all. Unset: 9. Only with <see cref="FreePageReporting"/>.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? PageReportingOrder { get; init; }

    /// <summary>
    /// The host backs guest RAM with transparent huge pages (QEMU madvises it MADV_HUGEPAGE; the host's THP is on, as it
    /// is by default on most distributions): its fault in an unmapped 2 MiB region maps a huge page, and a discard of part
    /// of one splits it (<see cref="Host.RamBlock"/>). Off by default: 4 KiB host pages. Any design.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public bool HostThp { get; init; }

    /// <summary>
    /// The host's /sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none, [0, 511]: the most empty entries (frames
    /// never written or discarded) a split 2 MiB region may have for the host's khugepaged to collapse it into a huge page
    /// again, backing its holes (<see cref="Host.Khugepaged"/>). Unset: the kernel's 511 (one mapped frame is enough);
    /// 0 collapses only regions with every frame mapped. Only with <see cref="HostThp"/>.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? HostKhugepagedMaxPtesNone { get; init; }

    /// <summary>
    /// The host's khugepaged/scan_sleep_millisecs, [1, 3,600,000]: how long the host's khugepaged sleeps between two scans
    /// of 8 regions (pages_to_scan 4,096). Unset: the kernel's 10,000. Only with <see cref="HostThp"/>.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? HostKhugepagedScanSleepMs { get; init; }

    /// <summary>
    /// The host's khugepaged/pages_to_scan, [1, 2^31 − 1] (the kernel takes up to UINT_MAX): the budget of a wake-up, 512
    /// a 2 MiB region scanned and one each time the scan enters QEMU's mm. Unset: the kernel's 4,096 (8 regions). Only
    /// with <see cref="HostThp"/>.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public int? HostKhugepagedPagesToScan { get; init; }

    /// <summary>
    /// The memory.max of QEMU's memory cgroup (v2), in MiB, [<see cref="MemoryMib"/>, 2 × <see cref="MaxMemoryMib"/>]: the
    /// host pages behind guest RAM are charged to it, and a charge past it reclaims in the cgroup first, which frees
    /// what split huge pages hold (<see cref="Host.RamBlock"/>), and a khugepaged collapse whose new huge page does not fit
    /// fails. Only guest RAM's pages are charged (read the limit as memory.max less QEMU's other charges: page tables,
    /// KVM's accounted memory, QEMU's own), and the limit is at least the guest's RAM, so that in this model a fault always
    /// fits once that reclaim has run and QEMU is never OOM-killed (no host swap is modelled). Unset: no limit ("max").
    /// Any design; it binds only with <see cref="HostThp"/>, where the memory in use can pass the guest's RAM.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public long? HostMemoryMaxMib { get; init; }

    /// <summary>
    /// The host offers VIRTIO_BALLOON_F_FREE_PAGE_HINT (QEMU's <c>free-page-hint=on</c>; off by default): while a live
    /// migration runs, the driver (4.20+) hands the host its free memory in 4 MiB blocks, which the migration then need not
    /// send (<see cref="Virtio.V6_1.FreePageHint"/>, <see cref="Host.LiveMigration"/>). Only designs with the 6.1 driver (v6.1) have it.
    /// </summary>
    [NotState("an option: fixed when the simulation is built")]
    public bool FreePageHint { get; init; }

    public int NrPages => checked((int)(MemoryMib * 256));

    /// <summary>
    /// Every settable option's property, ones added later included (what a snapshot carries and compares), held for the
    /// process: the runtime holds its cache of a type's members weakly, and the PropertyInfo objects it makes again after
    /// a collection each compiled a new invocation stub at their second call (1,712 of them in one run of the NUnit suite).
    /// </summary>
    internal static readonly PropertyInfo[] Settable = typeof(SimulationOptions).GetProperties().Where(p => p.CanWrite).ToArray();

    /// <summary>
    /// The options in which <paramref name="other"/> differs from these (e.g. "memory_mib 16 vs 32"), or null if none:
    /// a snapshot fits only a simulation built from the same options. Every option counts, including ones added later.
    /// </summary>
    public string? DifferenceFrom(SimulationOptions other)
    {
        var differences = Settable
            .Where(p => !Equals(p.GetValue(this), p.GetValue(other)))
            .Select(p => $"{Snake(p.Name)} {p.GetValue(this)} vs {p.GetValue(other)}")
            .ToArray();
        return differences.Length == 0 ? null : string.Join(", ", differences);
    }

    /// <summary>A property's name as Python spells it (MemoryMib → memory_mib).</summary>
    internal static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    public SimulationOptions Validate()
    {
        Check.InRange(MemoryMib, "memory_mib", MinMemoryMib, MaxMemoryMib);
        Check.That(Design is not null, "design", $"must be one of {string.Join(", ", KernelDesign.Names)}");
        Check.InRange(Cpus, "cpus", 1, MaxCpus);
        Check.OneOf(Hz, "hz", Time.SimClock.HzChoices);
        Check.InRange(TimesliceMs, "timeslice_ms", 0.0, 1000.0);
        Check.InRange(SwapMib, "swap_mib", 0, MaxMemoryMib);
        Check.InRange(IoLatencyMs, "io_latency_ms", 0.0, 10_000.0);
        Check.InRange(HostUsPerPage, "host_us_per_page", 0.0, 1000.0);
        Check.InRange(MaxReportsPerKind, "max_reports_per_kind", 1, 1_000_000_000);
        CheckTunable(CompactionProactiveness, "compaction_proactiveness", 0, 100, d => d.Parts.Compaction == PartVersion.V6_1);
        CheckTunable(WatermarkBoostFactor, "watermark_boost_factor", 0, int.MaxValue, d => d.Parts.PageAllocator == PartVersion.V6_1);
        CheckTunable(WatermarkScaleFactor, "watermark_scale_factor", 1, 3000, d => d.Parts.PageAllocator == PartVersion.V6_1);
        if (DeflateOnOom) CheckDesignHas("deflate_on_oom", d => d.Parts.OomNotifier != PartVersion.None);
        if (FreePageReporting) CheckDesignHas("free_page_reporting", d => d.Parts.PageAllocator == PartVersion.V6_1);
        if (FreePageHint) CheckDesignHas("free_page_hint", d => d.Parts.DriverFillLeak == PartVersion.V6_1);
        CheckHostKhugepaged(HostKhugepagedMaxPtesNone, "host_khugepaged_max_ptes_none", 0, Host.Khugepaged.DefaultMaxPtesNone);
        CheckHostKhugepaged(HostKhugepagedScanSleepMs, "host_khugepaged_scan_sleep_ms", 1, Host.Khugepaged.MaxScanSleepMs);
        CheckHostKhugepaged(HostKhugepagedPagesToScan, "host_khugepaged_pages_to_scan", 1, int.MaxValue);
        if (HostMemoryMaxMib is { } limit) Check.InRange(limit, "host_memory_max_mib", MemoryMib, 2 * MaxMemoryMib);
        if (PageReportingOrder is { } order)
        {
            Check.That(FreePageReporting, "page_reporting_order", "is free page reporting's: set free_page_reporting=True too");
            Check.InRange(order, "page_reporting_order", 0, Mm.Zone.MaxOrder - 1);
        }
        return this;
    }

    /// <summary>A setting of the host's khugepaged: only with host THP (the thread runs only then), and in range.</summary>
    private void CheckHostKhugepaged(int? value, string name, long min, long max)
    {
        if (value is not { } v) return;
        Check.That(HostThp, name, "is the host's khugepaged's, which runs only with host THP: set host_thp=True too");
        Check.InRange(v, name, min, max);
    }

    /// <summary>A sysctl some designs' kernels have: set only on one of those (the message names them), and in range.</summary>
    private void CheckTunable(int? value, string name, long min, long max, Func<KernelDesign, bool> has)
    {
        if (value is not { } v) return;
        CheckDesignHas(name, has);
        Check.InRange(v, name, min, max);
    }

    /// <summary>An option only some designs' kernels have: the message names the designs that have it.</summary>
    private void CheckDesignHas(string name, Func<KernelDesign, bool> has) =>
        Check.That(has(Design), name, $"design {Design.Name} has no such setting; the designs that have it: "
            + string.Join(", ", KernelDesign.All.Where(has).Select(d => d.Name)));
}
