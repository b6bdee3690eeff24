using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// Collects findings. Each report records the reporting CPU, the scheduler step and the simulated call
/// path of the running kernel path, so an interleaving can be read back. Every finding is counted; the first
/// <see cref="SimulationOptions.MaxReportsPerKind"/> of each kind are kept in full (a 16 GiB legacy guest can
/// produce hundreds of thousands of one kind, and nobody reads them one by one).
/// </summary>
internal sealed class Sanitizer(Scheduler scheduler, SimulationOptions options) : ISnapshotState
{
    private readonly List<SanitizerReport> _reports = [];
    private readonly long[] _counts = new long[Enum.GetValues<ReportKind>().Length];
    private readonly int[] _kept = new int[Enum.GetValues<ReportKind>().Length];

    /// <summary>The reports kept in full, oldest first.</summary>
    public IReadOnlyList<SanitizerReport> Reports => _reports;

    public void Report(ReportKind kind, long pfn, string message)
    {
        _counts[(int)kind]++;
        if (Keeps(kind)) Keep(kind, pfn, message);
    }

    /// <summary><see cref="Report(ReportKind, long, string)"/> with an interpolated message, built only if the report is kept.</summary>
    public void Report(ReportKind kind, long pfn, [InterpolatedStringHandlerArgument("", nameof(kind))] ref ReportMessage message)
    {
        _counts[(int)kind]++;
        if (message.Kept) Keep(kind, pfn, message.ToStringAndClear());
    }

    /// <summary>
    /// A VM_BUG_ON_PAGE(<paramref name="condition"/>) in <paramref name="function"/>, with the page's dump_page line. Out of
    /// line: a message built in place at each call made the per-page paths that test these conditions too large for the JIT
    /// to inline their small helpers (v6.1's leak_balloon took 14-20 % longer).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void VmBugOnPage(int page, string condition, string function, PageTable pages) =>
        Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE({condition}) in {function} ({pages.DumpPage(page)})");

    /// <summary>The next report of <paramref name="kind"/> would be kept in full (not only counted).</summary>
    public bool Keeps(ReportKind kind) => _kept[(int)kind] < options.MaxReportsPerKind;

    private void Keep(ReportKind kind, long pfn, string message)
    {
        _kept[(int)kind]++;
        var task = scheduler.Current;
        _reports.Add(new SanitizerReport(kind, pfn, message, task.Path.Snapshot(), task.Cpu, scheduler.Step));
    }

    /// <summary>Findings of <paramref name="kind"/> so far, kept or not.</summary>
    public long CountOf(ReportKind kind) => _counts[(int)kind];

    /// <summary>Findings so far, of every kind, kept or not.</summary>
    public long Total => _counts.Sum();

    /// <summary>Findings so far per kind, in <see cref="ReportKind"/> order, kept or not.</summary>
    public long[] Counts() => (long[])_counts.Clone();

    /// <summary>The reports so far (immutable records, so the array shares nothing mutable) and the counts.</summary>
    public object Save() => (_reports.ToArray(), _counts.Clone(), _kept.Clone());

    public void Restore(object saved)
    {
        var (reports, counts, kept) = ((SanitizerReport[], object, object))saved;
        AppendOnly.Restore(_reports, reports);
        ((long[])counts).CopyTo(_counts, 0);
        ((int[])kept).CopyTo(_kept, 0);
    }
}
