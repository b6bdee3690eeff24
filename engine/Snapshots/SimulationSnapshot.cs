namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// The whole state of one <see cref="Simulation"/> at one moment (<see cref="Simulation.Snapshot"/>): every part's
/// saved state, in the order the parts were registered. Immutable; it can be restored any number of times into the
/// simulation it came from or into any simulation built from the same options (a fork).
/// </summary>
public sealed class SimulationSnapshot
{
    internal SimulationSnapshot(SimulationOptions options, object[] states)
    {
        Options = options;
        States = states;
    }

    /// <summary>The options of the simulation it was taken from.</summary>
    public SimulationOptions Options { get; }

    internal object[] States { get; }
}
