namespace BalloonScript.Engine.Explore;

/// <summary>How to explore a race: a strategy, a seed and a depth. Validated on creation.</summary>
internal sealed record ExploreRequest
{
    public static readonly string[] Strategies = ["random", "pct", "roundrobin", "dfs"];

    public ExploreRequest(string strategy, long seed, int pctDepth = 3)
    {
        Check.OneOf(strategy, "strategy", Strategies);
        Check.InRange(pctDepth, "depth", 0, 10);
        Strategy = strategy;
        Seed = seed;
        PctDepth = pctDepth;
    }

    public string Strategy { get; }
    public long Seed { get; }
    /// <summary>PCT's bug depth d (at least 1 is used), or DFS's preemption bound.</summary>
    public int PctDepth { get; }

    /// <summary>The seed of schedule <paramref name="index"/>: SplitMix64 of (seed, index), so schedules are
    /// independent and any one can be rerun alone.</summary>
    public long ScheduleSeed(int index)
    {
        ulong z = unchecked((ulong)Seed + 0x9E3779B97F4A7C15UL * (ulong)(index + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((long)(z ^ (z >> 31)));
    }
}
