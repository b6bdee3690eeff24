using BalloonScript.Engine.Host;
using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
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
    private readonly ISnapshotState[] _states;

    internal Simulation(SimulationParts parts)
    {
        _parts = parts;
        _states = [.. parts.States];
        parts.Buddy.Boot();
        Record("boot");
        parts.Log.Event += Record;
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
        var sim = Boot(options);
        // The checks' first look, at the guest as it booted: the whole of memory once, so that every operation's check,
        // the first included, looks at what that operation changed.
        if (options.CheckAccounting) sim.CheckChangedBlocks();
        return sim;
    }

    /// <summary>A booted simulation, not yet checked.</summary>
    private static Simulation Boot(SimulationOptions options)
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

    /// <summary>The container of this simulation's parts (races bind their operations to them).</summary>
    internal IServiceProvider Services => _parts.Services;

    /// <summary>
    /// A copy of the whole guest as it is now (page state, lists, zones, counters, mappings, balloon, host, driver,
    /// clock and timers, reports, history): cheap bulk copies. <see cref="Restore"/> puts it back, here or in a fork.
    /// </summary>
    public SimulationSnapshot Snapshot() => new(Options, Array.ConvertAll(_states, s => s.Save()));

    /// <summary>
    /// Put the guest back to <paramref name="snapshot"/>, bit for bit. The snapshot must come from a simulation with the
    /// same options (this one or a fork of it); otherwise ArgumentException, and nothing is changed.
    /// </summary>
    public void Restore(SimulationSnapshot snapshot)
    {
        Check.That(snapshot is not null, "snapshot", "must be a snapshot of a simulation, got null");
        string? difference = Options.DifferenceFrom(snapshot!.Options);
        Check.That(difference is null, "snapshot", $"was taken from a simulation with other options ({difference})");
        RestoreUnchecked(snapshot);
    }

    /// <summary><see cref="Restore"/> of a snapshot known to fit (the explorer's own, once per schedule).</summary>
    internal void RestoreUnchecked(SimulationSnapshot snapshot)
    {
        for (int i = 0; i < _states.Length; i++) _states[i].Restore(snapshot.States[i]);
        _parts.Pages.EndRestore();
    }

    /// <summary>An independent copy: a new simulation with the same design and options, in this one's state.</summary>
    public Simulation Fork() => FromSnapshot(Snapshot());

    /// <summary>A new simulation in the state of <paramref name="snapshot"/>, built from its options (the restored checks'
    /// state is the snapshot's: the booted guest is not checked first).</summary>
    public static Simulation FromSnapshot(SimulationSnapshot snapshot)
    {
        var sim = Boot(snapshot.Options);
        sim.RestoreUnchecked(snapshot);
        return sim;
    }

    public long WorkloadAnon(double mib) => Op("workload.anon", () => _parts.Workload.Anon(mib));
    public long WorkloadFile(double mib, double dirty = 0) => Op("workload.file", () => _parts.Workload.File(mib, dirty));
    public long WorkloadSlab(double mib, bool reclaimable = false) => Op("workload.slab", () => _parts.Workload.Slab(mib, reclaimable));
    /// <summary>Touch pages of the workload; without a <paramref name="seed"/> the simulation's seed stream picks one.</summary>
    public long WorkloadTouch(double fraction, string kind, string pattern, long? seed = null) =>
        Op("workload.touch", () => _parts.Workload.Touch(fraction, kind, pattern, seed ?? _parts.Seeds.Next()));

    /// <summary>The kernel log (dmesg): OOM kills, allocation failures, the balloon's "Out of puff!".</summary>
    public string Dmesg() => _parts.Log.Dmesg();
    /// <summary>
    /// Free part of the workload (of one <paramref name="kind"/>: all, anon, file, slab); without a <paramref name="seed"/>
    /// the simulation's seed stream picks one.
    /// </summary>
    public long WorkloadFree(double fraction, string pattern, long? seed = null, string kind = "all") =>
        Op("workload.free", () => _parts.Workload.Free(fraction, pattern, seed ?? _parts.Seeds.Next(), kind));

    /// <summary>
    /// Inflate the virtio balloon by <paramref name="mib"/>, synchronously (the host raises its target, the balloon
    /// thread fills towards it, reclaiming where the kernel would, until reached or out of puff). The range is what
    /// the guest could ever give: without reclaim, what is free above the min watermarks; with reclaim, the managed
    /// memory above the min watermarks less unmovable pages (slab, kernel allocations, and anonymous memory that
    /// swap cannot take). Returns pages inflated, possibly fewer.
    /// </summary>
    public long BalloonInflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, InflatableMaxPages() / 256.0);
        return Op("balloon.inflate", () => _parts.Balloon.Inflate((long)Math.Round(mib * 256)));
    }

    /// <summary>
    /// The host asks for a balloon of <paramref name="balloonMib"/> MiB, [0, memory_mib) and at least a page short of
    /// the guest's memory (QEMU's <c>balloon</c> command takes the guest's new size, and refuses 0: qmp_balloon's
    /// "target &lt;= 0"); the balloon thread works towards it as time passes (<see cref="Run"/>).
    /// </summary>
    public void HostSetTarget(double balloonMib)
    {
        Check.That(balloonMib >= 0 && Math.Round(balloonMib * 256) < NrPages, "balloon_mib",
            $"must be in [0, {Options.MemoryMib}) MiB, leaving the guest a page at least (QEMU refuses `balloon 0`), got {balloonMib}");
        Op("host.set_target", () =>
        {
            _parts.Host.SetTarget((long)Math.Round(balloonMib * 256));
            return 0;
        });
    }

    /// <summary>The balloon size the host asks for (config num_pages), in pages.</summary>
    public long HostTargetPages => _parts.Host.TargetPages;

    /// <summary>fill_balloon calls that got no page ("Out of puff!") and slept 200 ms.</summary>
    public long BalloonOutOfPuff => _parts.Balloon.OutOfPuff;

    /// <summary>The most pages an inflate may ask for now (the bound BalloonInflate checks).</summary>
    public long InflatableMaxPages()
    {
        if (!_parts.Reclaim.Modelled) return _parts.Balloon.InflatablePages();
        var vm = _parts.VmStat;
        long giveable = _parts.Node.Zones.Sum(z => Math.Max(0, z.ManagedPages - z.Watermark[Zone.WmarkMin]));
        if (_parts.Balloon.DeflateOnOom) giveable -= _parts.Balloon.NumPages; // still counted in managed_pages
        long anon = vm.Global(ZoneStat.NrAnonPages);
        long unswappable = Math.Max(0, anon - _parts.Swap.NrSwapPages);
        giveable -= vm.Global(ZoneStat.NrSlabUnreclaimable) + _parts.HighOrder.AllocatedPages + _parts.Processes.PgtablesPages() + unswappable;
        return Math.Max(0, giveable);
    }

    /// <summary>Deflate the balloon by <paramref name="mib"/>, at most what it holds. Returns pages deflated.</summary>
    public long BalloonDeflate(double mib)
    {
        Check.InRange(mib, "mib", 0.0, _parts.Balloon.NumPages / 256.0);
        return Op("balloon.deflate", () => _parts.Balloon.Deflate((long)Math.Round(mib * 256)));
    }

    /// <summary>Pages in the balloon as the guest counts them (<c>vb-&gt;num_pages</c>).</summary>
    public long BalloonPages => _parts.Balloon.NumPages;

    /// <summary>
    /// PFNs in the balloon the host has not been told of yet: the batch of a fill_balloon asleep after "Out of puff!"
    /// (it tells the host when it wakes). Between operations, <see cref="HostBallooned"/> + this = <see cref="BalloonPages"/>.
    /// </summary>
    public long BalloonUntoldPages => _parts.Balloon.UntoldPfns().Length;

    /// <summary>Frames the host holds as ballooned (its own ledger).</summary>
    public long HostBallooned => _parts.Host.Ballooned;

    /// <summary>Frames the host has discarded on free page reports, in all (free_page_reporting; 0 without it).</summary>
    public long HostReportedPages => _parts.Host.ReportedPages;

    /// <summary>Free page reports the host has handled (a scatterlist of up to 32 blocks each).</summary>
    public long HostReports => _parts.Host.Reports;

    /// <summary>Guest frames the host backs with memory now (<see cref="RamBlock.ResidentPages"/>): the guest's resident set on the host.</summary>
    public long HostResidentPages => _parts.Ram.ResidentPages;

    /// <summary>Host faults on the guest's first write of a frame the host did not back (<see cref="RamBlock.Faults"/>; with host THP one maps 2 MiB).</summary>
    public long HostFaults => _parts.Ram.Faults;

    /// <summary>Of <see cref="HostFaults"/>, those on frames the host had discarded (inflated or reported, then reused).</summary>
    public long HostRefaults => _parts.Ram.Refaults;

    /// <summary>2 MiB regions of guest RAM the host maps with a huge page now (<see cref="SimulationOptions.HostThp"/>; else 0).</summary>
    public long HostHugePages => _parts.Ram.HugePages;

    /// <summary>
    /// Frames the host holds as ballooned and backs all the same (<see cref="RamBlock.BackedAmong"/>): with host THP, a
    /// huge page faulted in next to ballooned frames the host never backed; 0 without.
    /// </summary>
    public long HostBalloonedResidentPages => _parts.Ram.BackedAmong(_parts.Host.BalloonedSpan);

    /// <summary>Every frame as the host sees it (<see cref="RamBlock.Map"/>): 0 never written, 1 backed by a 4 KiB page, 2 by a huge page, 3 discarded.</summary>
    public byte[] HostMap() => _parts.Ram.Map();

    /// <summary>Host huge pages split by a discard of part of them (<see cref="SimulationOptions.HostThp"/>; else 0).</summary>
    public long HostThpSplits => _parts.Ram.ThpSplits;

    /// <summary>
    /// Frames the host discarded from huge pages it split but still holds (<see cref="RamBlock.DeferredSplitPages"/>): the
    /// host's memory in use is <see cref="HostResidentPages"/> plus these (<see cref="SimulationOptions.HostThp"/>; else 0).
    /// </summary>
    public long HostDeferredSplitPages => _parts.Ram.DeferredSplitPages;

    /// <summary>
    /// <c>echo 3 &gt; /proc/sys/vm/drop_caches</c> on the host: of what that frees, the model's host has only the
    /// deferred-split queue (<see cref="RamBlock.DeferredSplitScan"/>): every split huge page frees the frames it held.
    /// Returns the frames freed.
    /// </summary>
    public long HostDropCaches() => Op("host.drop_caches", () => _parts.Ram.DeferredSplitScan());

    /// <summary>
    /// QEMU's memory cgroup (<see cref="SimulationOptions.HostMemoryMaxMib"/>): memory.current and memory.max in pages (-1:
    /// no limit) and memory.events' max, in the order of <see cref="HostMemcgStatNames"/>.
    /// </summary>
    public long[] HostMemcgStats()
    {
        var ram = _parts.Ram;
        return [ram.MemoryCurrent, ram.MemoryMax, ram.MemcgMaxEvents];
    }

    /// <summary>The names of <see cref="HostMemcgStats"/>' values (the cgroup's files').</summary>
    public static string[] HostMemcgStatNames() => ["memory_current", "memory_max", "memory_events_max"];

    /// <summary>The most bandwidth a migration may be given, MiB/s (1 TiB/s).</summary>
    public const double MaxMigrateBandwidthMibS = 1 << 20;

    /// <summary>QEMU's largest downtime-limit (MAX_MIGRATE_DOWNTIME: 2,000 s), in ms.</summary>
    public const double MaxMigrateDowntimeLimitMs = 2_000_000;

    /// <summary>How long a waiting <see cref="HostMigrate"/> lets simulated time pass at most (a simulated hour).</summary>
    public const double MaxMigrateWaitMs = 3_600_000;

    /// <summary>
    /// Live-migrate the guest (<see cref="LiveMigration"/>, QEMU's precopy): at <paramref name="bandwidthMibS"/> MiB/s
    /// (max-bandwidth, (0, 1 TiB/s]) with a downtime limit of <paramref name="downtimeLimitMs"/> ([0, 2,000,000] ms). With
    /// <paramref name="wait"/>, simulated time passes (the guest's kernel threads run) until the migration completes or
    /// <see cref="MaxMigrateWaitMs"/> has passed; without, it goes on as time passes (<see cref="Run"/>), while the
    /// workload changes the guest. One migration at a time. Returns the migration's status (<see cref="LiveMigration.Status"/>).
    /// </summary>
    public long HostMigrate(double bandwidthMibS, double downtimeLimitMs, bool wait)
    {
        Check.That(bandwidthMibS > 0 && bandwidthMibS <= MaxMigrateBandwidthMibS, "bandwidth_mib_s",
            $"must be in (0, {MaxMigrateBandwidthMibS}] MiB/s, got {bandwidthMibS}");
        Check.InRange(downtimeLimitMs, "downtime_limit_ms", 0.0, MaxMigrateDowntimeLimitMs);
        Check.That(!_parts.LiveMigration.Active, "migrate",
            "a migration is running already: let it complete (run simulated time) or cancel it (migrate_cancel)");
        return Op("host.migrate", () =>
        {
            _parts.LiveMigration.Start((long)Math.Round(bandwidthMibS * (1 << 20)), (long)Math.Round(downtimeLimitMs));
            if (wait)
            {
                var clock = _parts.Clock;
                clock.RunUntil(clock.NowNs + (long)(MaxMigrateWaitMs * 1_000_000), () => !_parts.LiveMigration.Active || _parts.Signal.Pending);
                clock.RunUntil(clock.NowNs); // what the end's config change queued now: the guest gives its hinted blocks back
            }
            return (long)_parts.LiveMigration.CurrentStatus;
        });
    }

    /// <summary><c>migrate_cancel</c>: a running migration stops, and hinting ends (the guest takes its blocks back); nothing if none runs.</summary>
    public void HostMigrateCancel() => Op("host.migrate_cancel", () =>
    {
        _parts.LiveMigration.Cancel();
        _parts.Clock.RunUntil(_parts.Clock.NowNs); // the cancel's config change, handled now: the hinted blocks come back
        return 0;
    });

    /// <summary>The running or last migration's counts, in the order of <see cref="HostMigrationStatNames"/>.</summary>
    public long[] HostMigrationStats() => _parts.LiveMigration.Stats();

    /// <summary>The names of <see cref="HostMigrationStats"/>' values (status: 0 none, 1 active, 2 completed, 3 cancelled).</summary>
    public static string[] HostMigrationStatNames() => [.. LiveMigration.StatNames];

    /// <summary>
    /// The host's khugepaged (<see cref="Khugepaged"/>, with <see cref="SimulationOptions.HostThp"/>; counts 0 without): its
    /// counts and settings, in the order of <see cref="HostKhugepagedStatNames"/>.
    /// </summary>
    public long[] HostKhugepagedStats() => _parts.Khugepaged.Stats();

    /// <summary>The names of <see cref="HostKhugepagedStats"/>' values (sysfs's and /proc/vmstat's).</summary>
    public static string[] HostKhugepagedStatNames() => [.. Khugepaged.StatNames];

    /// <summary>Blocks free page hinting holds for the host now (<see cref="SimulationOptions.FreePageHint"/>; else 0), each 4 MiB.</summary>
    public long FreePageHintBlocks => _parts.FreePageHint?.HeldBlocks ?? 0;

    /// <summary>
    /// Free pages in blocks marked PG_reported (<see cref="PageAlloc.V6_1.PageReporting.ReportedFreePages"/>); looked for only
    /// once the host has handled a report, as every history row reads this.
    /// </summary>
    public long ReportedFreePages => _parts.Reporting is { } reporting && _parts.Host.Reports > 0 ? reporting.ReportedFreePages() : 0;

    /// <summary>
    /// Write /proc/sys/vm/compact_memory: compact_node over every zone (order -1, MIGRATE_SYNC, skip hints
    /// ignored), run to completion as one kernel path on CPU 0. Returns the counter deltas and each zone's result.
    /// </summary>
    public CompactResult Compact() => Op("compact", () =>
    {
        var before = _parts.VmStat.Values();
        CompactStatus[] statuses = [];
        ReportBlocked(_parts.Scheduler.Run([new SimTask(0, 0, "compact_memory", () => statuses = _parts.Compaction.CompactNode(Migrate.MigrateMode.Sync))], null));
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
            ReportBlocked(_parts.Scheduler.Run([new SimTask(0, 0, "allocate", () => successes = _parts.HighOrder.Allocate(order, count))], null));
            return successes;
        });
    }

    public const long MaxAllocateCount = 10_000_000;

    /// <summary>Simulated time since boot, in milliseconds.</summary>
    public double ClockMs => _parts.Clock.NowNs / 1e6;

    /// <summary>The longest <see cref="Run"/> in one call: a simulated day.</summary>
    public const double MaxRunMs = 86_400_000;

    /// <summary>
    /// Let <paramref name="ms"/> of simulated time pass: the timers that fall due fire in order (kswapd's nap, the
    /// balloon's retries, writeback completions, ...), each running its kernel path. Returns the clock afterwards,
    /// in ms (work that was under way may end a little after the target).
    /// </summary>
    public double Run(double ms)
    {
        Check.InRange(ms, "ms", 0.0, MaxRunMs);
        return Op("run", () =>
        {
            _parts.Clock.RunUntil(_parts.Clock.NowNs + (long)Math.Round(ms * 1_000_000), () => _parts.Signal.Pending);
            return ClockMs;
        });
    }

    /// <summary>
    /// Run kernel paths (compaction, migration, balloon work ...) on their CPUs under a scheduling strategy
    /// (null = run to completion, in order), then the page-state checks, as one recorded operation.
    /// </summary>
    internal RunOutcome RunKernelPaths(string name, IReadOnlyList<SimTask> tasks, IScheduleStrategy? strategy) =>
        Op(name, () => _parts.Scheduler.Run(tasks, strategy));

    public string Buddyinfo() => _parts.Proc.Buddyinfo();
    public string Pagetypeinfo() => _parts.Proc.Pagetypeinfo();
    public string ProcVmstat() => _parts.Proc.Vmstat();
    public string Zoneinfo() => _parts.Proc.Zoneinfo();
    public string Meminfo() => _parts.Meminfo.Text();
    public string ProcSwaps() => _parts.Swaps.Text();

    /// <summary>Whether the design's kernel has pressure stall information (4.20+: v6.1).</summary>
    public bool HasPsi => _parts.Psi is not null;

    /// <summary>
    /// /proc/pressure/memory (6.1's psi_show). A read collects the CPUs' stall times as the kernel's does, so it changes
    /// what later reads show (<see cref="Sched.Psi"/>). Kernels before 4.20 have no such file.
    /// </summary>
    public string ProcPressureMemory() => Psi().ShowMemory();

    /// <summary>/proc/pressure/io (6.1's psi_show): the time tasks waited for I/O, as <see cref="ProcPressureMemory"/>.</summary>
    public string ProcPressureIo() => Psi().ShowIo();

    /// <summary>/proc/pressure/cpu (6.1's psi_show): the time a runnable task waited for its CPU, as <see cref="ProcPressureMemory"/>.</summary>
    public string ProcPressureCpu() => Psi().ShowCpu();

    /// <summary>
    /// A PSI trigger, as writing <paramref name="trigger"/> ("some|full threshold_us window_us") to
    /// /proc/pressure/<paramref name="resource"/> ("memory", "io" or "cpu") creates one (6.1's psi_trigger_create: windows of
    /// 500 ms to 10 s, a threshold of 1 µs to the window); returns its handle for <see cref="PsiTriggerPoll"/>,
    /// <see cref="PsiTriggerEvents"/> and <see cref="PsiTriggerDestroy"/>.
    /// </summary>
    public int PsiTriggerCreate(string resource, string trigger) => Psi().CreateTrigger(resource, trigger);

    /// <summary>poll() of the trigger's file: true if it made an event since the last poll (EPOLLPRI), which this clears.</summary>
    public bool PsiTriggerPoll(int handle) => Psi().PollTrigger(handle);

    /// <summary>The simulated time, in ns, of every event the trigger made so far.</summary>
    public long[] PsiTriggerEvents(int handle) => Psi().TriggerEvents(handle);

    /// <summary>Closing the trigger's file (psi_trigger_destroy).</summary>
    public void PsiTriggerDestroy(int handle) => Psi().DestroyTrigger(handle);

    private Sched.Psi Psi() => _parts.Psi ?? throw new InvalidOperationException(
        $"design '{_parts.Options.Design.Name}' runs Linux {_parts.Options.Design.Kernel}, which has no pressure stall information " +
        "(/proc/pressure came in 4.20): use design \"v6.1\"");
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

    /// <summary>
    /// What the driver's update_balloon_stats would put on the stats virtqueue now, in the design's kernel: the
    /// VIRTIO_BALLOON_S_* tag names and values (bytes for memory, counts for events), in the driver's order.
    /// </summary>
    public IReadOnlyList<(string Tag, long Value)> BalloonStats() => _parts.BalloonStats.UpdateBalloonStats();

    /// <summary><see cref="PageKind"/> of every PFN (a copy).</summary>
    public byte[] PageMap() => _parts.Pages.Kind.ToArray();

    /// <summary>The live <see cref="PageKind"/> array behind <see cref="PageMap"/>, for a caller that copies it at once (the bindings).</summary>
    internal byte[] PageMapView => _parts.Pages.Kind.Unsafe;

    /// <summary>Sanitizer findings kept in full (the first <see cref="SimulationOptions.MaxReportsPerKind"/> of each kind).</summary>
    public IReadOnlyList<SanitizerReport> Reports => _parts.Sanitizer.Reports;

    /// <summary>Every finding counted per kind, kept in full or not, in <see cref="ReportKind"/> order.</summary>
    public long[] ReportCounts() => _parts.Sanitizer.Counts();

    /// <summary>One page as a debugger would show it (<see cref="PageInfo"/>).</summary>
    public PageInfo Page(int pfn) => _parts.Inspector.Inspect((int)Check.InRange(pfn, "pfn", 0, NrPages - 1));

    /// <summary><c>page-&gt;flags</c> of every PFN (the v3.16 PG_ bits), a copy.</summary>
    public uint[] PageFlags() => _parts.Pages.Flags.ToArray();

    /// <summary>The live array behind <see cref="PageFlags"/>, for a caller that copies it at once (the bindings).</summary>
    internal uint[] PageFlagsView => _parts.Pages.Flags.Unsafe;

    /// <summary>/proc/kpageflags of every PFN (KPF_ bits).</summary>
    public ulong[] KPageFlags() => _parts.KPageFlags.All();

    /// <summary>The migratetype of every pageblock, in PFN order (values index <see cref="MigratetypeNames"/>).</summary>
    public byte[] PageblockMigratetypes() => _parts.Node.Zones.SelectMany(z => z.PageblockMigratetype).ToArray();

    /// <summary>The migratetypes of this design's page allocator (migratetype_names), in number order: v3.16's or 6.1's.</summary>
    public string[] MigratetypeNames() => [.. _parts.Node.Zones[0].Types.Names];

    /// <summary>Balloon pages compaction can never isolate again (legacy's defect 2), as a mask over PFNs.</summary>
    public bool[] BalloonUnmovable() => _parts.Inspector.BalloonUnmovable();

    /// <summary>The zones: name, first PFN, end PFN (exclusive), in PFN order.</summary>
    public (string Name, int Start, int End)[] Zones() => _parts.Node.Zones.Select(z => (z.Name, z.StartPfn, z.EndPfn)).ToArray();

    /// <summary>The PB_migrate_skip bit of every pageblock, in PFN order.</summary>
    public bool[] PageblockSkip() => _parts.Node.Zones.SelectMany(z => z.PageblockSkip).ToArray();

    public IReadOnlyList<string> HistoryOps => _parts.History.Ops;

    public string[] HistoryColumns()
    {
        var cols = new List<string>
        {
            "sched_step", "time_ms", "balloon_pages", "balloon_target", "host_ballooned", "out_of_puff",
            "host_reported", "reported_free", "host_resident", "host_refaults", "host_deferred_split", "migration_remaining",
            "migration_transferred",
            "hint_blocks", "managed_pages", "wmark_min", "wmark_low", "wmark_high",
        };
        for (int o = 0; o < Zone.MaxOrder; o++) cols.Add($"free_order{o}");
        cols.Add("extfrag_9");
        cols.Add("unusable_9");
        cols.AddRange(_parts.VmStat.Names());
        return [.. cols];
    }

    public double[] HistoryValues() => _parts.History.Values();

    /// <summary>
    /// The columns of <see cref="ProcessValues"/>, each a field of the process's mm or task in pages or as the kernel
    /// keeps it: <c>total_vm</c>, MM_ANONPAGES, MM_SWAPENTS, <c>nr_ptes</c> (PTE tables), the page-table pages of every
    /// level (6.1's <c>mm_pgtables_bytes</c> / PAGE_SIZE), <c>oom_score_adj</c>, TIF_MEMDIE (1: the OOM killer chose it),
    /// whether its mm is gone (exit_mmap), and its task's <c>min_flt</c> and <c>maj_flt</c>.
    /// </summary>
    public static string[] ProcessColumns() =>
        ["pid", "total_vm", "anon_rss", "swapents", "nr_ptes", "pgtables", "oom_score_adj", "memdie", "exited", "min_flt", "maj_flt"];

    /// <summary>One row of <see cref="ProcessColumns"/> per workload process, in pid order, row-major.</summary>
    public long[] ProcessValues() => _parts.Processes.All.SelectMany(p => new long[]
    {
        p.Pid, p.TotalVm, p.AnonRss, p.SwapEnts, p.NrPtes, p.PgtablesPages, p.OomScoreAdj, p.MemDie ? 1 : 0, p.Exited ? 1 : 0,
        p.MinFlt, p.MajFlt,
    }).ToArray();

    /// <summary>Each workload process's <c>comm</c>, in pid order.</summary>
    public string[] ProcessComms() => _parts.Processes.All.Select(p => p.Comm).ToArray();

    /// <summary>Run the whole-memory checks now, over every page (after every operation they look at what it changed).</summary>
    public void CheckInvariants() => RunChecks(full: true);

    /// <summary>The checks as they run after an operation: over the blocks changed since they last ran (tests compare it with the full check).</summary>
    internal void CheckChangedBlocks() => RunChecks(full: false);

    /// <summary>
    /// The whole-memory checks: over every page, or over the MAX_ORDER blocks changed since they last ran, which finds
    /// exactly what looking at every page would (<see cref="PageStateCheck"/>, <see cref="BalloonCheck"/>).
    /// </summary>
    private void RunChecks(bool full)
    {
        // Reports from here carry this frame, so they do not read as if the running CPU had done something.
        using var _ = _parts.Scheduler.Current.Path.Enter("sanitizer: whole-memory checks");
        var changed = _parts.Pages.Changes.Take();
        if (full)
        {
            _parts.Check.Run();
            _parts.BalloonCheck.Run();
        }
        else
        {
            _parts.Check.Run(changed);
            _parts.BalloonCheck.Run(changed);
        }
    }

    private static int CheckOrder(int order) => (int)Check.InRange(order, "order", 0, Zone.MaxOrder - 1);

    private T Op<T>(string name, Func<T> body)
    {
        T result = default!;
        ReportBlocked(_parts.Scheduler.RunOnMain(() => result = body()));
        if (_parts.Options.CheckAccounting) CheckChangedBlocks();
        Record(name);
        return result;
    }

    /// <summary>
    /// A path run to completion that blocked with no other CPU to run was cut short there: the model has no way to go
    /// on, so it says so (a vm_bug finding) rather than leave a half-done path unnoticed.
    /// </summary>
    private void ReportBlocked(RunOutcome outcome)
    {
        if (outcome.Deadlock is { } why) _parts.Sanitizer.Report(ReportKind.VmBug, -1, $"run to completion: {why}");
    }

    /// <summary>The values of <see cref="HistoryColumns"/>, one row per operation; written into one array of the row's size.</summary>
    private void Record(string op)
    {
        var row = new double[HistoryColumnCount];
        var (scheduler, balloon, host, zones) = (_parts.Scheduler, _parts.Balloon, _parts.Host, _parts.Node.Zones);
        (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9]) =
            (scheduler.Step, ClockMs, balloon.NumPages, host.TargetPages, host.Ballooned, balloon.OutOfPuff, host.ReportedPages, ReportedFreePages,
             _parts.Ram.ResidentPages, _parts.Ram.Refaults);
        (row[10], row[11], row[12], row[13]) =
            (_parts.Ram.DeferredSplitPages, _parts.LiveMigration.Remaining, _parts.LiveMigration.Transferred, FreePageHintBlocks);
        // Summed over zones, as a plot of the whole guest's memory shows them.
        for (int z = 0; z < zones.Count; z++)
        {
            row[14] += zones[z].ManagedPages;
            for (int w = Zone.WmarkMin; w <= Zone.WmarkHigh; w++) row[15 + w - Zone.WmarkMin] += zones[z].Watermark[w];
        }
        int at = 18;
        foreach (long blocks in FreeBlocks()) row[at++] = blocks;
        row[at++] = Fragmentation.ZoneIndex(_parts.Node.LargestZone, 9) / 1000.0;
        row[at++] = Fragmentation.ZoneUnusable(_parts.Node.LargestZone, 9) / 1000.0;
        _parts.VmStat.ValuesInto(row.AsSpan(at, VmStat.ValueCount));
        _parts.History.Add(op, row);
    }

    /// <summary>The length of a history row: 11 values of the simulation and its host, 3 of a live migration, managed pages
    /// and 3 watermarks, the free blocks of each order, 2 fragmentation indexes, /proc/vmstat.</summary>
    private const int HistoryColumnCount = 11 + 3 + 4 + Zone.MaxOrder + 2 + VmStat.ValueCount;
}
