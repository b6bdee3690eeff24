using BalloonScript.Engine;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Bindings;

/// <summary>
/// The Python-facing façade of one <see cref="Simulation"/>: bulk calls only (whole arrays, whole
/// experiments), plain types pythonnet converts cheaply. Argument errors surface as ArgumentException,
/// which the Python package turns into ValueError. Every array handed out is a fresh copy.
/// </summary>
public sealed class PySimulation
{
    private readonly Simulation _sim;

    private PySimulation(Simulation sim) => _sim = sim;

    /// <summary>A simulation with <paramref name="options"/> (validated first; nothing is built on an error).</summary>
    public static PySimulation Create(PyOptions options) => new(Simulation.Create(options.Build()));

    public long WorkloadAnon(double mib) => _sim.WorkloadAnon(mib);
    public long WorkloadFile(double mib) => _sim.WorkloadFile(mib);
    public long WorkloadSlab(double mib) => _sim.WorkloadSlab(mib);
    public long WorkloadFree(double fraction, string pattern, long seed) => _sim.WorkloadFree(fraction, pattern, seed);

    public long BalloonInflate(double mib) => _sim.BalloonInflate(mib);
    public long BalloonDeflate(double mib) => _sim.BalloonDeflate(mib);
    public long BalloonPages => _sim.BalloonPages;
    public long HostBallooned => _sim.HostBallooned;

    public PyCompactResult Compact() => new(_sim.Compact());

    /// <summary>Ctrl-C for the operation running on another thread (see <see cref="Simulation.Interrupted"/>); the caller clears it.</summary>
    public bool Interrupted { get => _sim.Interrupted; set => _sim.Interrupted = value; }
    public long Allocate(int order, long count) => _sim.Allocate(order, count);

    public string[] VmstatNames() => _sim.VmstatNames();
    public long[] VmstatValues() => _sim.VmstatValues();
    public string Buddyinfo() => _sim.Buddyinfo();
    public string Pagetypeinfo() => _sim.Pagetypeinfo();
    public string ExtfragText() => _sim.ExtfragText();
    public string UnusableText() => _sim.UnusableText();
    public long[] FreeBlocks() => _sim.FreeBlocks();
    public int ExtfragIndex(int order) => _sim.ExtfragIndex(order);
    public int UnusableIndex(int order) => _sim.UnusableIndex(order);
    public byte[] PageMap() => _sim.PageMap();
    public static string[] PageKindNames() => Enum.GetNames<PageKind>().Select(n => n.ToLowerInvariant()).ToArray();
    public static string[] FreePatterns() => [.. Engine.Workload.Workload.Patterns];
    public static string[] ReportKindNames() => Enum.GetValues<ReportKind>().Select(ReportKinds.Name).ToArray();

    /// <summary>Kernel constants the Python layer uses (names and values, parallel).</summary>
    public static string[] ConstantNames() => ["max_order", "pageblock_order", "page_size", "pages_per_mib"];
    public static long[] ConstantValues() => [Zone.MaxOrder, Zone.PageblockOrder, 4096, 256];

    public PyReport[] Reports() => _sim.Reports.Select(r => new PyReport(r)).ToArray();
    public string[] HistoryColumns() => _sim.HistoryColumns();
    public double[] HistoryValues() => _sim.HistoryValues();
    public string[] HistoryOps() => [.. _sim.HistoryOps];
}
