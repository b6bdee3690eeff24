namespace BalloonScript.Engine.Sanitizers;

/// <summary>One finding: what, where (pfn, -1 if none), the simulated call path, which CPU, at which step.</summary>
public sealed record SanitizerReport(ReportKind Kind, long Pfn, string Message, string[] Trace, int Cpu, long Step)
{
    public string KindName => ReportKinds.Name(Kind);

    public override string ToString() =>
        $"[{KindName}] cpu{Cpu} step {Step} pfn {Pfn}: {Message}\n  at {string.Join(" <- ", Trace.Reverse())}";
}
