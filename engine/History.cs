using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine;

/// <summary>What <see cref="Simulation.HistoryValues"/> serves: one row of metrics per recorded operation, in order.</summary>
internal sealed class History : ISnapshotState
{
    private readonly List<Entry> _entries = [];

    public IReadOnlyList<string> Ops => _entries.Select(e => e.Op).ToArray();

    public void Add(string op, double[] row) => _entries.Add(new Entry(op, row));

    /// <summary>Every row, row-major.</summary>
    public double[] Values() => _entries.SelectMany(e => e.Row).ToArray();

    public object Save() => _entries.ToArray();

    public void Restore(object saved) => AppendOnly.Restore(_entries, (Entry[])saved);

    /// <summary>One row; rows are never changed once recorded.</summary>
    private sealed record Entry(string Op, double[] Row);
}
