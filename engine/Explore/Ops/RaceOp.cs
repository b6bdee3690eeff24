using System.Globalization;

namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// One operation a simulated CPU runs in a race, as data: a kind from <see cref="RaceOps.Kinds"/> and its arguments by
/// name, as text (<c>bs.op.deflate(pages=16)</c> is <c>("deflate", {pages: "16"})</c>). Checked when it is bound.
/// </summary>
public sealed record RaceOp(string Kind, IReadOnlyDictionary<string, string> Args)
{
    /// <summary>An operation written in C# (the presets): <c>RaceOp.Of("deflate", ("pages", 4))</c>.</summary>
    public static RaceOp Of(string kind, params (string Name, object Value)[] args) =>
        new(kind, args.ToDictionary(a => a.Name, a => Convert.ToString(a.Value, CultureInfo.InvariantCulture)!));

    public override string ToString() => $"{Kind}({string.Join(", ", Args.Select(kv => $"{kv.Key}={kv.Value}"))})";
}
