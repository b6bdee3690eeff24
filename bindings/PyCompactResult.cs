using BalloonScript.Engine.Compaction;

namespace BalloonScript.Bindings;

/// <summary>A compact_memory outcome in plain fields (counter deltas, per-zone results).</summary>
public sealed class PyCompactResult(CompactResult result)
{
    public long Migrated { get; } = result.Migrated;
    public long Failed { get; } = result.Failed;
    public long Isolated { get; } = result.Isolated;
    public long MigrateScanned { get; } = result.MigrateScanned;
    public long FreeScanned { get; } = result.FreeScanned;
    public string[] ZoneNames { get; } = result.ZoneNames;
    public string[] ZoneOutcomes { get; } = result.ZoneOutcomes;
    public override string ToString() => result.ToString();
}
