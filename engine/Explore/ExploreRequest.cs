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
    public long ScheduleSeed(int index) => Workload.SeedStream.At(Seed, index + 1);
}
