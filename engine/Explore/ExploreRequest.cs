using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Explore;

/// <summary>What to explore: a scenario in a design, with a strategy and a seed. Validated on creation.</summary>
internal sealed record ExploreRequest
{
    public static readonly string[] Strategies = ["random", "pct", "roundrobin", "dfs"];

    public ExploreRequest(ScenarioSpec scenario, KernelDesign design, string strategy, long seed, int pctDepth = 3)
    {
        Check.OneOf(strategy, "strategy", Strategies);
        Check.InRange(pctDepth, "depth", 0, 10);
        Scenario = scenario;
        Design = design;
        Strategy = strategy;
        Seed = seed;
        PctDepth = pctDepth;
    }

    public ScenarioSpec Scenario { get; }
    public KernelDesign Design { get; }
    public string Strategy { get; }
    public long Seed { get; }
    /// <summary>PCT's bug depth d (at least 1 is used), or DFS's preemption bound.</summary>
    public int PctDepth { get; }

    /// <summary>
    /// The scenario's guest. The scenarios place pages at known PFNs and time their races on the v3.16 model as it
    /// was before memory pressure and time were modelled, so they run without per-cpu lists, pagevecs, reclaim or
    /// a scheduler tick (which would move those PFNs and add paths to the interleavings), and the host answers a
    /// kick in its fixed 20 µs whatever the number of PFNs.
    /// </summary>
    public SimulationOptions Options => new()
    {
        MemoryMib = Scenario.MemoryMib, Cpus = Scenario.Cpus, Design = Design, Seed = Seed,
        PerCpuLists = false, Pagevecs = false, Reclaim = false, TimesliceMs = 0, HostUsPerPage = 0,
    };

    /// <summary>The seed of schedule <paramref name="index"/>: SplitMix64 of (seed, index), so schedules are
    /// independent and any one can be rerun alone.</summary>
    public long ScheduleSeed(int index) => Workload.SeedStream.At(Seed, index + 1);
}
