namespace BalloonScript.Engine.Explore;

/// <summary>How to explore a race: a strategy, a seed and a depth. Validated on creation.</summary>
internal sealed record ExploreRequest
{
    public static readonly string[] Strategies = ["random", "pct", "roundrobin", "dfs"];

    /// <summary>Partial-order reductions: none, or sleep sets for dfs (<see cref="Sched.SleepSets"/>).</summary>
    public static readonly string[] Reductions = ["none", "sleep-sets"];

    /// <summary>Most host threads a search may use.</summary>
    public const int MaxThreads = 1024;

    public ExploreRequest(string strategy, long seed, int pctDepth = 3, string reduction = "none", int threads = 0)
    {
        Check.InRange(threads, "threads", 0, MaxThreads);
        Check.OneOf(strategy, "strategy", Strategies);
        Check.InRange(pctDepth, "depth", 0, 10);
        Check.OneOf(reduction, "reduction", Reductions);
        Check.That(reduction == "none" || strategy == "dfs", "reduction", $"{reduction} reduces the dfs search only, not {strategy}");
        Check.That(reduction == "none" || PartialOrderReduction.Available, "reduction",
            $"{reduction} needs partial-order reduction turned on before the process's first simulation: "
            + "bs.enable_partial_order_reduction() in Python, or the AppContext switch " + Sched.StepAccesses.Switch);
        Strategy = strategy;
        Seed = seed;
        PctDepth = pctDepth;
        Reduction = reduction;
        Threads = threads;
    }

    /// <summary>Host threads the exploration runs on, each on a CPU of its own (0: one per CPU the process may use; 1: one
    /// thread). A dfs search with reduction or a bound below 2 runs on one. The result does not depend on it.</summary>
    public int Threads { get; }

    /// <summary>The partial-order reduction of a dfs search (<see cref="Reductions"/>).</summary>
    public string Reduction { get; }

    public string Strategy { get; }
    public long Seed { get; }
    /// <summary>PCT's bug depth d (at least 1 is used), or DFS's preemption bound.</summary>
    public int PctDepth { get; }

    /// <summary>The seed of schedule <paramref name="index"/>: SplitMix64 of (seed, index), so schedules are
    /// independent and any one can be rerun alone.</summary>
    public long ScheduleSeed(int index) => Workload.SeedStream.At(Seed, index + 1);
}
