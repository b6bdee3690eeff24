using BalloonScript.Engine;
using BalloonScript.Engine.Designs;

namespace BalloonScript.Bindings;

/// <summary>
/// The options of one simulation as Python sets them: one property per <see cref="SimulationOptions"/> property,
/// starting at the engine's defaults (so Python's defaults are the engine's). <see cref="Names"/> lists them in
/// Python's spelling; a new option is a new property here and a name there.
/// </summary>
public sealed class PyOptions
{
    private static readonly SimulationOptions Defaults = new();

    public long MemoryMib { get; set; } = Defaults.MemoryMib;
    public string Design { get; set; } = Defaults.Design.Name;
    public int Cpus { get; set; } = Defaults.Cpus;
    public long Seed { get; set; } = Defaults.Seed;
    public bool PerCpuLists { get; set; } = Defaults.PerCpuLists;
    public bool CheckAccounting { get; set; } = Defaults.CheckAccounting;
    public int Hz { get; set; } = Defaults.Hz;
    public double TimesliceMs { get; set; } = Defaults.TimesliceMs;
    public bool Reclaim { get; set; } = Defaults.Reclaim;
    public bool Pagevecs { get; set; } = Defaults.Pagevecs;
    public long SwapMib { get; set; } = Defaults.SwapMib;
    public double IoLatencyMs { get; set; } = Defaults.IoLatencyMs;
    public double HostUsPerPage { get; set; } = Defaults.HostUsPerPage;
    public int MaxReportsPerKind { get; set; } = Defaults.MaxReportsPerKind;
    /// <summary>Design-specific sysctls: null (None) leaves the design's default; SimulationOptions rejects them on designs without them.</summary>
    public int? CompactionProactiveness { get; set; } = Defaults.CompactionProactiveness;
    public int? WatermarkBoostFactor { get; set; } = Defaults.WatermarkBoostFactor;
    public int? WatermarkScaleFactor { get; set; } = Defaults.WatermarkScaleFactor;
    /// <summary>The host offers VIRTIO_BALLOON_F_DEFLATE_ON_OOM; SimulationOptions rejects it on designs whose driver lacks it.</summary>
    public bool DeflateOnOom { get; set; } = Defaults.DeflateOnOom;
    /// <summary>The host offers VIRTIO_BALLOON_F_REPORTING; SimulationOptions rejects it on designs without page_reporting.</summary>
    public bool FreePageReporting { get; set; } = Defaults.FreePageReporting;
    /// <summary>null (None): the device's order, pageblock order.</summary>
    public int? PageReportingOrder { get; set; } = Defaults.PageReportingOrder;
    public bool HostThp { get; set; } = Defaults.HostThp;
    /// <summary>null (None): the kernel's defaults, 511 and 10,000 ms; SimulationOptions rejects them without host_thp.</summary>
    public int? HostKhugepagedMaxPtesNone { get; set; } = Defaults.HostKhugepagedMaxPtesNone;
    public int? HostKhugepagedScanSleepMs { get; set; } = Defaults.HostKhugepagedScanSleepMs;
    public int? HostKhugepagedPagesToScan { get; set; } = Defaults.HostKhugepagedPagesToScan;
    /// <summary>null (None): no limit; SimulationOptions rejects one below memory_mib.</summary>
    public long? HostMemoryMaxMib { get; set; } = Defaults.HostMemoryMaxMib;
    /// <summary>The host offers VIRTIO_BALLOON_F_FREE_PAGE_HINT; SimulationOptions rejects it on designs whose driver lacks it.</summary>
    public bool FreePageHint { get; set; } = Defaults.FreePageHint;

    /// <summary>The option names as Python spells them (snake_case of the properties), in signature order.</summary>
    public static string[] Names() => ["memory_mib", "design", "cpus", "seed", "per_cpu_lists", "check_accounting", "hz", "timeslice_ms",
        "reclaim", "pagevecs", "swap_mib", "io_latency_ms", "host_us_per_page",
        "max_reports_per_kind", "compaction_proactiveness", "watermark_boost_factor", "watermark_scale_factor", "deflate_on_oom",
        "free_page_reporting", "page_reporting_order", "host_thp", "host_khugepaged_max_ptes_none", "host_khugepaged_scan_sleep_ms",
        "host_khugepaged_pages_to_scan", "host_memory_max_mib", "free_page_hint"];

    /// <summary>The engine's options (the design parsed here, at the boundary; ArgumentException naming a bad one).</summary>
    internal SimulationOptions Build() => new()
    {
        MemoryMib = MemoryMib, Design = KernelDesign.Parse(Design), Cpus = Cpus, Seed = Seed,
        PerCpuLists = PerCpuLists, CheckAccounting = CheckAccounting, Hz = Hz, TimesliceMs = TimesliceMs,
        Reclaim = Reclaim, Pagevecs = Pagevecs, SwapMib = SwapMib, IoLatencyMs = IoLatencyMs,
        HostUsPerPage = HostUsPerPage, MaxReportsPerKind = MaxReportsPerKind,
        CompactionProactiveness = CompactionProactiveness, WatermarkBoostFactor = WatermarkBoostFactor,
        WatermarkScaleFactor = WatermarkScaleFactor, DeflateOnOom = DeflateOnOom, FreePageReporting = FreePageReporting,
        PageReportingOrder = PageReportingOrder, HostThp = HostThp, HostKhugepagedMaxPtesNone = HostKhugepagedMaxPtesNone,
        HostKhugepagedScanSleepMs = HostKhugepagedScanSleepMs, HostKhugepagedPagesToScan = HostKhugepagedPagesToScan,
        HostMemoryMaxMib = HostMemoryMaxMib, FreePageHint = FreePageHint,
    };
}
