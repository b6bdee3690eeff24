using BalloonScript.Engine.Host;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine;

/// <summary>
/// One simulated guest. Every public operation validates its arguments before it changes anything, so a
/// rejected call leaves the simulation as it was; after each operation the page-state checks run (if
/// enabled) and a row is added to the history. A simulation is used by one thread at a time (Python's
/// <c>Simulation</c> serialises its calls); only <see cref="Interrupted"/> is meant to be set from another thread.
/// Different simulations are independent and run in parallel.
/// </summary>
public sealed class Simulation
{
    private readonly SimulationParts _parts;
    private readonly List<string> _historyOps = [];
    private readonly List<double[]> _historyRows = [];

    internal Simulation(SimulationParts parts)
    {
        _parts = parts;
        parts.Buddy.Boot();
        Record("boot");
    }

    public SimulationOptions Options => _parts.Options;

    /// <summary>The kernel design this simulation is built for.</summary>
    public KernelDesign Design => _parts.Options.Design;

    /// <summary>
    /// Build a simulation from options (validated first; ArgumentException names the bad one, and names memory_mib
    /// for a guest this machine has not the memory to simulate).
    /// </summary>
    public static Simulation Create(SimulationOptions options)
    {
        GuestMemoryBudget.CheckFits(options.Validate());
        return ServiceCollectionExtensions.BuildSimulationProvider(options).GetRequiredService<Simulation>();
    }

    /// <summary>
    /// Ctrl-C: set from another thread while an operation runs, it stops the operation early where the kernel would
    /// notice a fatal signal (compact_finished returns COMPACT_PARTIAL, the too-many-isolated wait and the migrate
    /// scanner give up, populate, free and allocation loops and the balloon thread stop). The operation returns
    /// normally and leaves a consistent state (the page-state checks still run after it). Stays set until cleared.
    /// </summary>
    public bool Interrupted
    {
        get => _parts.Signal.Raised;
        set => _parts.Signal.Raised = value;
    }

    public int NrPages => _parts.Pages.NrPages;

    public long WorkloadAnon(double mib) => Op("workload.anon", () => _parts.Workload.Anon(mib));
    public long WorkloadFile(double mib) => Op("workload.file", () => _parts.Workload.File(mib));
    public long WorkloadSlab(double mib) => Op("workload.slab", () => _parts.Workload.Slab(mib));
    public long WorkloadFree(double fraction, string pattern, long seed) => Op("workload.free", () => _parts.Workload.Free(fraction, pattern, seed));

    /// <summary>Inflate the virtio balloon by <paramref name="mib"/>: at most what can be allocated above the min watermarks. Returns pages inflated.</summary>
    public long BalloonInflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, _parts.Balloon.InflatablePages() / 256.0);
        return Op("balloon.inflate", () => _parts.Balloon.Inflate((long)Math.Round(mib * 256)));
    }

    /// <summary>Deflate the balloon by <paramref name="mib"/>, at most what it holds. Returns pages deflated.</summary>
    public long BalloonDeflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, _parts.Balloon.NumPages / 256.0);
        return Op("balloon.deflate", () => _parts.Balloon.Deflate((long)Math.Round(mib * 256)));
    }

    /// <summary>Pages in the balloon as the guest counts them (<c>vb-&gt;num_pages</c>).</summary>
    public long BalloonPages => _parts.Balloon.NumPages;

    /// <summary>Frames the host holds as ballooned (its own ledger).</summary>
    public long HostBallooned => _parts.Host.Ballooned;
    /// <summary>
    /// Write /proc/sys/vm/compact_memory: compact_node over every zone (order -1, MIGRATE_SYNC, skip hints
    /// ignored), run to completion as one kernel path on CPU 0. Returns the counter deltas and each zone's result.
    /// </summary>
    public CompactResult Compact() => Op("compact", () =>
    {
        var before = _parts.VmStat.Values();
        CompactStatus[] statuses = [];
        _parts.Scheduler.Run([new SimTask(0, 0, "compact_memory", () => statuses = _parts.Compaction.CompactNode())], null);
        var after = _parts.VmStat.Values();
        long Delta(VmEvent e) => after[(int)ZoneStat.Count + (int)e] - before[(int)ZoneStat.Count + (int)e];
        return new CompactResult(Delta(VmEvent.PgmigrateSuccess), Delta(VmEvent.PgmigrateFail), Delta(VmEvent.CompactIsolated),
            Delta(VmEvent.CompactMigrateScanned), Delta(VmEvent.CompactFreeScanned),
            _parts.Node.Zones.Select(z => z.Name).ToArray(), statuses.Select(CompactStatuses.Name).ToArray());
    });

    /// <summary>
    /// Try <paramref name="count"/> allocations of 2^<paramref name="order"/> pages (order 9 as THP faults),
    /// each with direct compaction, as one kernel path on CPU 0; keeps what it gets; returns the successes.
    /// </summary>
    public long Allocate(int order, long count)
    {
        CheckOrder(order);
        Check.InRange(count, "count", 0, MaxAllocateCount);
        return Op("allocate", () =>
        {
            long successes = 0;
            _parts.Scheduler.Run([new SimTask(0, 0, "allocate", () => successes = _parts.HighOrder.Allocate(order, count))], null);
            return successes;
        });
    }

    public const long MaxAllocateCount = 10_000_000;

    /// <summary>
    /// Run kernel paths (compaction, migration, balloon work ...) on their CPUs under a scheduling strategy
    /// (null = run to completion, in order), then the page-state checks, as one recorded operation.
    /// </summary>
    internal RunOutcome RunKernelPaths(string name, IReadOnlyList<SimTask> tasks, IScheduleStrategy? strategy) =>
        Op(name, () => _parts.Scheduler.Run(tasks, strategy));

    public string Buddyinfo() => _parts.Proc.Buddyinfo();
    public string Pagetypeinfo() => _parts.Proc.Pagetypeinfo();
    public string ExtfragText() => _parts.Proc.ExtfragIndex();
    public string UnusableText() => _parts.Proc.UnusableIndex();

    /// <summary>nr_free per order summed over zones.</summary>
    public long[] FreeBlocks()
    {
        var blocks = new long[Zone.MaxOrder];
        foreach (var z in _parts.Node.Zones)
            for (int o = 0; o < Zone.MaxOrder; o++) blocks[o] += z.NrFree[o];
        return blocks;
    }

    /// <summary>Fragmentation index ×1000 of the largest zone (where user memory lives).</summary>
    public int ExtfragIndex(int order) => Fragmentation.ZoneIndex(_parts.Node.LargestZone, CheckOrder(order));

    /// <summary>Unusable free space index ×1000 of the largest zone.</summary>
    public int UnusableIndex(int order) => Fragmentation.ZoneUnusable(_parts.Node.LargestZone, CheckOrder(order));

    public string[] VmstatNames() => _parts.VmStat.Names();
    public long[] VmstatValues() => _parts.VmStat.Values();

    /// <summary><see cref="PageKind"/> of every PFN (a copy).</summary>
    public byte[] PageMap() => (byte[])_parts.Pages.Kind.Clone();

    public IReadOnlyList<SanitizerReport> Reports => _parts.Sanitizer.Reports;

    public IReadOnlyList<string> HistoryOps => _historyOps;

    public string[] HistoryColumns()
    {
        var cols = new List<string> { "sched_step" };
        for (int o = 0; o < Zone.MaxOrder; o++) cols.Add($"free_order{o}");
        cols.Add("extfrag_9");
        cols.Add("unusable_9");
        cols.AddRange(_parts.VmStat.Names());
        return [.. cols];
    }

    public double[] HistoryValues() => _historyRows.SelectMany(r => r).ToArray();

    /// <summary>Run the whole-memory checks now (they also run after every operation).</summary>
    public void CheckInvariants()
    {
        // Reports from here carry this frame, so they do not read as if the running CPU had done something.
        using var _ = _parts.Scheduler.Current.Path.Enter("sanitizer: whole-memory checks");
        _parts.Check.Run(_parts.Workload.LiveTokens, _parts.Workload.MaxToken);
        _parts.BalloonCheck.Run();
    }

    private static int CheckOrder(int order) => (int)Check.InRange(order, "order", 0, Zone.MaxOrder - 1);

    private T Op<T>(string name, Func<T> body)
    {
        var result = body();
        if (_parts.Options.CheckAccounting) CheckInvariants();
        Record(name);
        return result;
    }

    private void Record(string op)
    {
        var row = new List<double> { _parts.Scheduler.Step };
        var blocks = FreeBlocks();
        row.AddRange(blocks.Select(b => (double)b));
        row.Add(Fragmentation.ZoneIndex(_parts.Node.LargestZone, 9) / 1000.0);
        row.Add(Fragmentation.ZoneUnusable(_parts.Node.LargestZone, 9) / 1000.0);
        row.AddRange(_parts.VmStat.Values().Select(v => (double)v));
        _historyOps.Add(op);
        _historyRows.Add([.. row]);
    }
}
