using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Bindings;

/// <summary>A sanitizer finding in plain fields.</summary>
public sealed class PyReport(SanitizerReport report)
{
    public string Kind { get; } = report.KindName;
    public long Pfn { get; } = report.Pfn;
    public string Message { get; } = report.Message;
    public string[] Trace { get; } = report.Trace;
    public int Cpu { get; } = report.Cpu;
    public long Step { get; } = report.Step;
    public override string ToString() => report.ToString();
}
