namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// A part of a simulation that holds state (page arrays, lists, counters, the clock, reports, ...). Every such
/// part implements this, so <see cref="Simulation.Snapshot"/> can copy a whole guest and
/// <see cref="Simulation.Restore"/> put it back bit for bit; a test fails for any singleton service with a mutable
/// field that is neither saved here nor marked <see cref="NotStateAttribute"/>.
/// </summary>
internal interface ISnapshotState
{
    /// <summary>A copy of the part's state as plain data that shares nothing mutable with the part (so a snapshot
    /// can be restored any number of times, into this part or into the same part of a fork).</summary>
    object Save();

    /// <summary>Overwrite the part's state with what <see cref="Save"/> returned (of a part built from the same options).</summary>
    void Restore(object saved);
}
