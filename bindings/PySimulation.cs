using System.Runtime.InteropServices;
using BalloonScript.Engine;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Bindings;

/// <summary>
/// The Python-facing façade of one <see cref="Simulation"/>: bulk calls only (whole arrays, whole
/// experiments), plain types pythonnet converts cheaply. Argument errors surface as ArgumentException,
/// which the Python package turns into ValueError. Every array handed out is a fresh copy, except the views named
/// so, which the Python package copies once into numpy under the simulation's lock (a second copy here would double
/// the cost of <c>page_map()</c>).
/// </summary>
public sealed class PySimulation
{
    private readonly Simulation _sim;

    private PySimulation(Simulation sim) => _sim = sim;

    internal Simulation Sim => _sim;

    /// <summary>A simulation with <paramref name="options"/> (validated first; nothing is built on an error).</summary>
    public static PySimulation Create(PyOptions options) => new(Simulation.Create(options.Build()));

    /// <summary>The whole state, to restore here or in a fork (opaque to Python).</summary>
    public SimulationSnapshot Snapshot() => _sim.Snapshot();
    public void Restore(SimulationSnapshot snapshot) => _sim.Restore(snapshot);
    /// <summary>An independent copy: same design and options, same state.</summary>
    public PySimulation Fork() => new(_sim.Fork());

    public long WorkloadAnon(double mib) => _sim.WorkloadAnon(mib);
    public long WorkloadFile(double mib, double dirty) => _sim.WorkloadFile(mib, dirty);
    public long WorkloadSlab(double mib, bool reclaimable) => _sim.WorkloadSlab(mib, reclaimable);
    public long WorkloadTouch(double fraction, string kind, string pattern, long seed) => _sim.WorkloadTouch(fraction, kind, pattern, seed);
    public long WorkloadTouch(double fraction, string kind, string pattern) => _sim.WorkloadTouch(fraction, kind, pattern);
    public string Dmesg() => _sim.Dmesg();
    public long WorkloadFree(double fraction, string pattern, string kind, long seed) => _sim.WorkloadFree(fraction, pattern, seed, kind);
    public long WorkloadFree(double fraction, string pattern, string kind) => _sim.WorkloadFree(fraction, pattern, kind: kind);

    public long BalloonInflate(double mib) => _sim.BalloonInflate(mib);
    public long BalloonDeflate(double mib) => _sim.BalloonDeflate(mib);
    public long BalloonPages => _sim.BalloonPages;
    public long BalloonInflatablePages => _sim.InflatableMaxPages();
    public long HostBallooned => _sim.HostBallooned;
    public long HostReportedPages => _sim.HostReportedPages;
    public long HostReports => _sim.HostReports;
    public long ReportedFreePages => _sim.ReportedFreePages;
    public long HostResidentPages => _sim.HostResidentPages;
    public long HostFaults => _sim.HostFaults;
    public long HostRefaults => _sim.HostRefaults;
    public long HostHugePages => _sim.HostHugePages;
    public long HostThpSplits => _sim.HostThpSplits;
    public long HostDeferredSplitPages => _sim.HostDeferredSplitPages;
    public long HostDropCaches() => _sim.HostDropCaches();
    public long HostBalloonedResidentPages => _sim.HostBalloonedResidentPages;
    public byte[] HostMap() => _sim.HostMap();
    public long HostMigrate(double bandwidthMibS, double downtimeLimitMs, bool wait) => _sim.HostMigrate(bandwidthMibS, downtimeLimitMs, wait);
    public void HostMigrateCancel() => _sim.HostMigrateCancel();
    public long[] HostMigrationStats() => _sim.HostMigrationStats();
    public static string[] HostMigrationStatNames() => Simulation.HostMigrationStatNames();
    public long[] HostKhugepagedStats() => _sim.HostKhugepagedStats();
    public static string[] HostKhugepagedStatNames() => Simulation.HostKhugepagedStatNames();
    public long[] HostMemcgStats() => _sim.HostMemcgStats();
    public static string[] HostMemcgStatNames() => Simulation.HostMemcgStatNames();
    public long FreePageHintBlocks => _sim.FreePageHintBlocks;
    public long BalloonUntoldPages => _sim.BalloonUntoldPages;
    public void HostSetTarget(double balloonMib) => _sim.HostSetTarget(balloonMib);
    public long HostTargetPages => _sim.HostTargetPages;
    public long BalloonOutOfPuff => _sim.BalloonOutOfPuff;

    public PyCompactResult Compact() => new(_sim.Compact());
    public double Run(double ms) => _sim.Run(ms);
    public double ClockMs => _sim.ClockMs;

    /// <summary>Ctrl-C for the operation running on another thread (see <see cref="Simulation.Interrupted"/>); the caller clears it.</summary>
    public bool Interrupted { get => _sim.Interrupted; set => _sim.Interrupted = value; }
    public long Allocate(int order, long count) => _sim.Allocate(order, count);

    public string[] VmstatNames() => _sim.VmstatNames();
    public long[] VmstatValues() => _sim.VmstatValues();
    /// <summary>The stats virtqueue's payload as (tags, values), one snapshot for both (Python builds the dict).</summary>
    public object[] BalloonStats()
    {
        var stats = _sim.BalloonStats();
        return [stats.Select(s => s.Tag).ToArray(), stats.Select(s => s.Value).ToArray()];
    }
    public string Buddyinfo() => _sim.Buddyinfo();
    public string Pagetypeinfo() => _sim.Pagetypeinfo();
    public string ProcVmstat() => _sim.ProcVmstat();
    public string Zoneinfo() => _sim.Zoneinfo();
    public string Meminfo() => _sim.Meminfo();
    public string ProcSwaps() => _sim.ProcSwaps();
    public bool HasPsi => _sim.HasPsi;
    public string ProcPressureMemory() => _sim.ProcPressureMemory();
    public string ProcPressureIo() => _sim.ProcPressureIo();
    public string ProcPressureCpu() => _sim.ProcPressureCpu();
    public int PsiTriggerCreate(string resource, string trigger) => _sim.PsiTriggerCreate(resource, trigger);
    public bool PsiTriggerPoll(int handle) => _sim.PsiTriggerPoll(handle);
    public long[] PsiTriggerEvents(int handle) => _sim.PsiTriggerEvents(handle);
    public void PsiTriggerDestroy(int handle) => _sim.PsiTriggerDestroy(handle);
    public string ExtfragText() => _sim.ExtfragText();
    public string UnusableText() => _sim.UnusableText();
    public long[] FreeBlocks() => _sim.FreeBlocks();
    public int ExtfragIndex(int order) => _sim.ExtfragIndex(order);
    public int UnusableIndex(int order) => _sim.UnusableIndex(order);
    public byte[] PageMap() => _sim.PageMap();
    /// <summary>The live <see cref="PageKind"/> array, not a copy: for the Python package to copy into numpy, never to keep.</summary>
    public byte[] PageMapView() => _sim.PageMapView;
    public static string[] PageKindNames() => Enum.GetNames<PageKind>().Select(n => n.ToLowerInvariant()).ToArray();
    public static string[] FreePatterns() => [.. Engine.Workload.Workload.Patterns];
    public static string[] ReportKindNames() => Enum.GetValues<ReportKind>().Select(ReportKinds.Name).ToArray();

    /// <summary>Kernel constants the Python layer uses (names and values, parallel).</summary>
    public static string[] ConstantNames() => ["max_order", "pageblock_order", "page_size", "pages_per_mib", "max_run_ms"];
    public static long[] ConstantValues() => [Zone.MaxOrder, Zone.PageblockOrder, 4096, 256, (long)Simulation.MaxRunMs];

    public PyReport[] Reports() => _sim.Reports.Select(r => new PyReport(r)).ToArray();
    public long[] ReportCounts() => _sim.ReportCounts();

    /// <summary>The kept reports as columns (one transfer each): kind index, pfn, cpu, step, message, call path.</summary>
    public byte[] ReportKindColumn() => _sim.Reports.Select(r => (byte)r.Kind).ToArray();
    public long[] ReportPfnColumn() => _sim.Reports.Select(r => r.Pfn).ToArray();
    public int[] ReportCpuColumn() => _sim.Reports.Select(r => r.Cpu).ToArray();
    public long[] ReportStepColumn() => _sim.Reports.Select(r => r.Step).ToArray();
    public string[] ReportMessageColumn() => _sim.Reports.Select(r => r.Message).ToArray();
    public string[] ReportTraceColumn() => _sim.Reports.Select(r => string.Join(" <- ", r.Trace.Reverse())).ToArray();

    public PageInfo Page(int pfn) => _sim.Page(pfn);
    /// <summary>The live page-&gt;flags array, not a copy: for the Python package to copy into numpy, never to keep.</summary>
    public uint[] PageFlagsView() => _sim.PageFlagsView;
    public ulong[] KPageFlags() => _sim.KPageFlags();
    public byte[] PageblockMigratetypes() => _sim.PageblockMigratetypes();
    /// <summary>The names pageblock_migratetypes() values index, as this design's allocator numbers them.</summary>
    public string[] Migratetypes() => _sim.MigratetypeNames();
    public byte[] PageblockSkip() => Bytes(_sim.PageblockSkip());
    public byte[] BalloonUnmovable() => Bytes(_sim.BalloonUnmovable());

    /// <summary>A bool[] has no numpy buffer format: its bytes (0 or 1 each) as a byte[], copied at once.</summary>
    private static byte[] Bytes(bool[] mask) => MemoryMarshal.AsBytes(mask.AsSpan()).ToArray();
    public string[] ZoneNames() => _sim.Zones().Select(z => z.Name).ToArray();
    public int[] ZoneStarts() => _sim.Zones().Select(z => z.Start).ToArray();
    public int[] ZoneEnds() => _sim.Zones().Select(z => z.End).ToArray();
    /// <summary>v3.16's migratetype names (the older designs'); a v6.1 simulation numbers them its own way (<see cref="Migratetypes"/>).</summary>
    public static string[] MigratetypeNames() => [.. MigrateType.Names];
    public static string[] PageFlagNames() => [.. PageInspector.FlagNames];
    public string[] HistoryColumns() => _sim.HistoryColumns();
    public double[] HistoryValues() => _sim.HistoryValues();
    public string[] HistoryOps() => [.. _sim.HistoryOps];
    public static string[] ProcessColumns() => Simulation.ProcessColumns();
    public long[] ProcessValues() => _sim.ProcessValues();
    public string[] ProcessComms() => _sim.ProcessComms();
}
