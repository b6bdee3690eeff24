using BalloonScript.Engine.Host;
using BalloonScript.Engine.Compaction;
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
/// enabled) and a row is added to the history.
/// </summary>
public sealed class Simulation
{
    private readonly PageTable _pages;
    private readonly Node _node;
    private readonly Sanitizer _sanitizer;
    private readonly VmStat _vmstat;
    private readonly ProcText _proc;
    private readonly Workload.Workload _workload;
    private readonly PageStateCheck _check;
    private readonly Scheduler _scheduler;
    private readonly VirtioBalloon _balloon;
    private readonly BalloonHost _host;
    private readonly BalloonCheck _balloonCheck;
    private readonly Compactor _compactor;
    private readonly Workload.HighOrderRequests _highOrder;
    private readonly List<string> _historyOps = [];
    private readonly List<double[]> _historyRows = [];

    internal Simulation(SimulationOptions options, PageTable pages, Node node, BuddyAllocator buddy, Sanitizer sanitizer,
        VmStat vmstat, ProcText proc, Workload.Workload workload, PageStateCheck check, Scheduler scheduler,
        VirtioBalloon balloon, BalloonHost host, BalloonCheck balloonCheck, Compactor compactor, Workload.HighOrderRequests highOrder)
    {
        Options = options;
        _pages = pages;
        _node = node;
        _sanitizer = sanitizer;
        _vmstat = vmstat;
        _proc = proc;
        _workload = workload;
        _check = check;
        _scheduler = scheduler;
        _balloon = balloon;
        _host = host;
        _balloonCheck = balloonCheck;
        _compactor = compactor;
        _highOrder = highOrder;
        MemoryInit.Boot(node, buddy);
        Record("boot");
    }

    public SimulationOptions Options { get; }

    /// <summary>Build a simulation from options (validated first; ArgumentException names the bad one).</summary>
    public static Simulation Create(SimulationOptions options)
    {
        options.Validate();
        var provider = new ServiceCollection().AddBalloonScript(options).BuildServiceProvider();
        return provider.GetRequiredService<Simulation>();
    }


    public int NrPages => _pages.NrPages;

    public long WorkloadAnon(double mib) => Op("workload.anon", () => _workload.Anon(mib));
    public long WorkloadFile(double mib) => Op("workload.file", () => _workload.File(mib));
    public long WorkloadSlab(double mib) => Op("workload.slab", () => _workload.Slab(mib));
    public long WorkloadFree(double fraction, string pattern, long seed) => Op("workload.free", () => _workload.Free(fraction, pattern, seed));

    /// <summary>Inflate the virtio balloon by <paramref name="mib"/>: at most what can be allocated above the min watermarks. Returns pages inflated.</summary>
    public long BalloonInflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, _balloon.InflatablePages() / 256.0);
        return Op("balloon.inflate", () => _balloon.Inflate((long)Math.Round(mib * 256)));
    }

    /// <summary>Deflate the balloon by <paramref name="mib"/>, at most what it holds. Returns pages deflated.</summary>
    public long BalloonDeflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, _balloon.NumPages / 256.0);
        return Op("balloon.deflate", () => _balloon.Deflate((long)Math.Round(mib * 256)));
    }

    /// <summary>Pages in the balloon as the guest counts them (<c>vb-&gt;num_pages</c>).</summary>
    public long BalloonPages => _balloon.NumPages;

    /// <summary>Frames the host holds as ballooned (its own ledger).</summary>
    public long HostBallooned => _host.Ballooned;
    /// <summary>
    /// Write /proc/sys/vm/compact_memory: compact_node over every zone (order -1, MIGRATE_SYNC, skip hints
    /// ignored), run to completion as one kernel path on CPU 0. Returns the counter deltas and each zone's result.
    /// </summary>
    public CompactResult Compact() => Op("compact", () =>
    {
        var before = _vmstat.Values();
        CompactStatus[] statuses = [];
        _scheduler.Run([new SimTask(0, 0, "compact_memory", () => statuses = _compactor.CompactNode())], null);
        var after = _vmstat.Values();
        long Delta(VmEvent e) => after[(int)ZoneStat.Count + (int)e] - before[(int)ZoneStat.Count + (int)e];
        return new CompactResult(Delta(VmEvent.PgmigrateSuccess), Delta(VmEvent.PgmigrateFail), Delta(VmEvent.CompactIsolated),
            Delta(VmEvent.CompactMigrateScanned), Delta(VmEvent.CompactFreeScanned),
            _node.Zones.Select(z => z.Name).ToArray(), statuses.Select(CompactStatuses.Name).ToArray());
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
            _scheduler.Run([new SimTask(0, 0, "allocate", () => successes = _highOrder.Allocate(order, count))], null);
            return successes;
        });
    }

    public const long MaxAllocateCount = 10_000_000;

    /// <summary>
    /// Run kernel paths (compaction, migration, balloon work ...) on their CPUs under a scheduling strategy
    /// (null = run to completion, in order), then the page-state checks, as one recorded operation.
    /// </summary>
    internal RunOutcome RunKernelPaths(string name, IReadOnlyList<SimTask> tasks, IScheduleStrategy? strategy) =>
        Op(name, () => _scheduler.Run(tasks, strategy));

    public string Buddyinfo() => _proc.Buddyinfo();
    public string Pagetypeinfo() => _proc.Pagetypeinfo();
    public string ExtfragText() => _proc.ExtfragIndex();
    public string UnusableText() => _proc.UnusableIndex();

    /// <summary>nr_free per order summed over zones.</summary>
    public long[] FreeBlocks()
    {
        var blocks = new long[Zone.MaxOrder];
        foreach (var z in _node.Zones)
            for (int o = 0; o < Zone.MaxOrder; o++) blocks[o] += z.NrFree[o];
        return blocks;
    }

    /// <summary>Fragmentation index ×1000 of the largest zone (where user memory lives).</summary>
    public int ExtfragIndex(int order) => Fragmentation.ZoneIndex(_node.LargestZone, CheckOrder(order));

    /// <summary>Unusable free space index ×1000 of the largest zone.</summary>
    public int UnusableIndex(int order) => Fragmentation.ZoneUnusable(_node.LargestZone, CheckOrder(order));

    public string[] VmstatNames() => _vmstat.Names();
    public long[] VmstatValues() => _vmstat.Values();

    /// <summary><see cref="PageKind"/> of every PFN (a copy).</summary>
    public byte[] PageMap() => (byte[])_pages.Kind.Clone();

    public IReadOnlyList<SanitizerReport> Reports => _sanitizer.Reports;

    public IReadOnlyList<string> HistoryOps => _historyOps;

    public string[] HistoryColumns()
    {
        var cols = new List<string> { "sched_step" };
        for (int o = 0; o < Zone.MaxOrder; o++) cols.Add($"free_order{o}");
        cols.Add("extfrag_9");
        cols.Add("unusable_9");
        cols.AddRange(_vmstat.Names());
        return [.. cols];
    }

    public double[] HistoryValues() => _historyRows.SelectMany(r => r).ToArray();

    /// <summary>Run the whole-memory checks now (they also run after every operation).</summary>
    public void CheckInvariants()
    {
        // Reports from here carry this frame, so they do not read as if the running CPU had done something.
        using var _ = _scheduler.Current.Path.Enter("sanitizer: whole-memory checks");
        _check.Run(_workload.LiveTokens, _workload.MaxToken);
        _balloonCheck.Run();
    }

    private static int CheckOrder(int order) => (int)Check.InRange(order, "order", 0, Zone.MaxOrder - 1);

    private T Op<T>(string name, Func<T> body)
    {
        var result = body();
        if (Options.CheckAccounting) CheckInvariants();
        Record(name);
        return result;
    }

    private void Record(string op)
    {
        var row = new List<double> { _scheduler.Step };
        var blocks = FreeBlocks();
        row.AddRange(blocks.Select(b => (double)b));
        row.Add(Fragmentation.ZoneIndex(_node.LargestZone, 9) / 1000.0);
        row.Add(Fragmentation.ZoneUnusable(_node.LargestZone, 9) / 1000.0);
        row.AddRange(_vmstat.Values().Select(v => (double)v));
        _historyOps.Add(op);
        _historyRows.Add([.. row]);
    }
}
