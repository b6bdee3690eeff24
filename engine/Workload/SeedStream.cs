using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// The simulation's own source of seeds (SplitMix64 from <see cref="SimulationOptions.Seed"/>): a workload call
/// that makes random choices and is given no seed of its own takes the next one, so the simulation's seed alone
/// decides a run and two seeds give two runs. The kernel's own choices (where an allocation lands) follow from
/// the state and need no randomness.
/// </summary>
internal sealed class SeedStream(SimulationOptions options) : ISnapshotState
{
    private long _drawn;

    public object Save() => _drawn;

    public void Restore(object saved) => _drawn = (long)saved;

    /// <summary>The next seed of the stream.</summary>
    public long Next() => At(options.Seed, ++_drawn);

    /// <summary>Output <paramref name="n"/> (from 1) of SplitMix64 started at <paramref name="seed"/>: any one can be computed alone.</summary>
    public static long At(long seed, long n)
    {
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)n);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((long)(z ^ (z >> 31)));
    }
}
