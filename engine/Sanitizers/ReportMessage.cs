using System.Runtime.CompilerServices;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// The message of a <see cref="Sanitizer.Report(ReportKind, long, ref ReportMessage)"/> written as an interpolated string:
/// formatted only if the report is kept in full. A kind past <see cref="SimulationOptions.MaxReportsPerKind"/> is only
/// counted, and its message (its holes not even evaluated) is never built: a legacy guest's compaction finds hundreds of
/// thousands of stranded balloon pages, each with a dump_page text.
/// </summary>
[InterpolatedStringHandler]
internal ref struct ReportMessage
{
    private DefaultInterpolatedStringHandler _text;

    public ReportMessage(int literalLength, int formattedCount, Sanitizer sanitizer, ReportKind kind, out bool kept)
    {
        Kept = kept = sanitizer.Keeps(kind);
        if (kept) _text = new DefaultInterpolatedStringHandler(literalLength, formattedCount);
    }

    /// <summary>The report is kept in full, so the message is being built.</summary>
    public bool Kept { get; }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);
    public void AppendFormatted<T>(T value, int alignment) => _text.AppendFormatted(value, alignment);
    public void AppendFormatted<T>(T value, int alignment, string? format) => _text.AppendFormatted(value, alignment, format);

    public string ToStringAndClear() => _text.ToStringAndClear();
}
