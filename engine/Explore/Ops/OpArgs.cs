using System.Globalization;

namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// The arguments of one operation, read with the checks of <see cref="Check"/>: every message names where the operation
/// stands (<c>cpu1[0] deflate: pages must be in [1, ...], got 0</c>). A missing argument takes its default; an unknown
/// one is an error.
/// </summary>
internal sealed class OpArgs
{
    private readonly string _where;
    private readonly Dictionary<string, string> _values = [];

    public OpArgs(string where, RaceOpKind kind, IReadOnlyDictionary<string, string> given)
    {
        _where = where;
        foreach (var name in given.Keys)
            Check.That(kind.Params.Any(p => p.Name == name), $"{where} {kind.Name}",
                $"has no argument '{name}'; it takes {string.Join(", ", kind.Params.Select(p => p.Name))}");
        foreach (var p in kind.Params)
        {
            if (given.TryGetValue(p.Name, out var value)) _values[p.Name] = value;
            else if (p.Default is not null) _values[p.Name] = p.Default;
            else Check.That(false, Name(p.Name), "is required");
        }
    }

    /// <summary>How messages name an argument: <c>cpu1[0] deflate: pages</c>.</summary>
    public string Name(string param) => $"{_where} {param}";

    public long Int(string name, long min, long max)
    {
        Check.That(long.TryParse(_values[name], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v), Name(name),
            $"must be an integer, got '{_values[name]}'");
        return Check.InRange(v, Name(name), min, max);
    }

    public double Real(string name, double min, double max)
    {
        Check.That(double.TryParse(_values[name], NumberStyles.Float, CultureInfo.InvariantCulture, out double v), Name(name),
            $"must be a number, got '{_values[name]}'");
        return Check.InRange(v, Name(name), min, max);
    }

    public string OneOf(string name, params string[] allowed) => Check.OneOf(_values[name], Name(name), allowed);

    public string Text(string name) => _values[name];
}
