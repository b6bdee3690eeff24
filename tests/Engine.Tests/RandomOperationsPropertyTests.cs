using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// Random sequences of the operations a user can ask for (populate, free, touch, inflate, deflate, compact, allocate,
/// the host's balloon target, time passing), with and without swap, on
/// every design, with the invariants checked after each one; a failing sequence is shrunk to a minimal one. Run to
/// completion, no design may corrupt accounting or data, and only legacy reports anything: the balloon pages its
/// migration left unmovable (defect 2). A refused operation leaves the guest as it was.
/// </summary>
public class RandomOperationsPropertyTests
{
    public enum Kind { Anon, File, Slab, Free, Inflate, Deflate, Compact, Allocate, Touch, SetTarget, Run }

    /// <summary>One operation; <see cref="Amount"/> is MiB (a fraction for Free), large enough to be refused sometimes.</summary>
    public readonly record struct Op(Kind Kind, double Amount, int Order, int Seed)
    {
        public override string ToString() => Kind switch
        {
            Kind.Free => $"free({Amount:0.###}, {FreeKind(Seed)}, seed {Seed})",
            Kind.Compact => "compact",
            Kind.Allocate => $"allocate(order {Order}, {Seed % 8})",
            Kind.Touch => $"touch({Amount:0.###}, seed {Seed})",
            Kind.SetTarget => $"host.set_target({Amount:0.##} MiB)",
            Kind.Run => $"run({Amount:0.##} ms)",
            _ => $"{Kind.ToString().ToLowerInvariant()}({Amount:0.##} MiB)",
        };
    }

    /// <summary>A guest and what is done to it.</summary>
    public readonly record struct Case(string Design, long MemoryMib, int Cpus, bool PerCpuLists, long SwapMib, Op[] Ops,
        bool FreePageReporting = false, int? PageReportingOrder = null, bool HostThp = false, long? HostMemoryMaxMib = null)
    {
        public override string ToString() =>
            $"{Design}, {MemoryMib} MiB, {Cpus} cpus{(PerCpuLists ? ", per-cpu lists" : "")}{(HostThp ? ", host THP" : "")}" +
            $"{(HostMemoryMaxMib is { } max ? $", memory.max {max} MiB" : "")}" +
            $"{(FreePageReporting ? $", free page reporting (order {PageReportingOrder?.ToString() ?? "default"})" : "")}, swap {SwapMib} MiB: {string.Join("; ", Ops)}";
    }

    private static string FreeKind(int seed) => Engine.Workload.Workload.FreeKinds[seed % Engine.Workload.Workload.FreeKinds.Length];

    /// <summary>Populating, fragmenting and ballooning more often than the rest, so compaction finds balloon pages among LRU pages.</summary>
    private static readonly Gen<Kind> Kinds = Gen.Frequency(
        (3, Gen.OneOfConst(Kind.Anon, Kind.File)), (1, Gen.Const(Kind.Slab)), (3, Gen.Const(Kind.Free)), (3, Gen.Const(Kind.Inflate)),
        (1, Gen.Const(Kind.Deflate)), (2, Gen.Const(Kind.Compact)), (1, Gen.Const(Kind.Allocate)), (1, Gen.Const(Kind.Touch)),
        (1, Gen.Const(Kind.SetTarget)), (2, Gen.Const(Kind.Run)));

    private static readonly Gen<Op> Ops = Gen.Select(Kinds, Gen.Double[0, 1], Gen.Int[0, 10], Gen.Int[0, 1000],
        (kind, x, order, seed) => new Op(kind, Math.Round(x * x * MaxMib(kind), 2), order, seed));

    /// <summary>The largest amount asked for: more than a 16 MiB guest can give, so some calls are refused.</summary>
    private static double MaxMib(Kind kind) => kind switch
    {
        Kind.Free or Kind.Touch => 1, // a fraction of the workload
        Kind.Run => 300, // ms
        Kind.SetTarget => 12,
        Kind.Slab => 2.5,
        Kind.Inflate or Kind.Deflate => 5,
        _ => 20,
    };

    /// <summary>With host THP, QEMU's memory cgroup at the guest's RAM, 1 MiB above it, or no limit.</summary>
    private static Gen<Case> Cases(string design) => Gen.Select(Gen.OneOfConst(16L, 32L), Gen.Int[1, 3], Gen.Bool, Gen.OneOfConst(0L, 8L),
        Ops.Array[1, 40], Gen.Bool, Gen.Int[0, 2], (mib, cpus, pcp, swap, ops, thp, limit) =>
            new Case(design, mib, cpus, pcp, swap, ops, HostThp: thp, HostMemoryMaxMib: thp && limit < 2 ? mib + limit : null));

    [Test]
    public void RandomOperations_KeepEveryInvariant([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design) =>
        Property.ForAll(Cases(design), 30, 20151215, Run);

    /// <summary>
    /// v6.1 with free page reporting on guests big enough to report (DMA32 needs 64 MiB free above its low watermark), at
    /// the default reporting order or at 0 or 5 (single pages and 128 KiB blocks reported too), with whole seconds of time
    /// among the operations so that passes run between them and inside their waits.
    /// </summary>
    [Test]
    public void RandomOperations_v6_1_FreePageReporting_KeepEveryInvariant()
    {
        var ops = Gen.Select(Ops, Gen.Int[0, 3], (op, run) => run == 0 ? op with { Kind = Kind.Run, Amount = 500 + Math.Round(op.Amount * 200) } : op);
        var cases = Gen.Select(Gen.OneOfConst(256L, 320L), Gen.Int[1, 2], Gen.Bool, ops.Array[1, 30], Gen.OneOfConst<int?>(null, 0, 5), Gen.Bool,
            (mib, cpus, pcp, list, order, thp) => new Case("v6.1", mib, cpus, pcp, 0, list, FreePageReporting: true, PageReportingOrder: order, HostThp: thp));
        Property.ForAll(cases, 10, 20151215, Run);
    }

    private static void Run(Case c)
    {
        var sim = Simulation.Create(new SimulationOptions
        {
            MemoryMib = c.MemoryMib, Design = KernelDesign.Parse(c.Design), Cpus = c.Cpus, PerCpuLists = c.PerCpuLists, Seed = 1,
            SwapMib = c.SwapMib, FreePageReporting = c.FreePageReporting, PageReportingOrder = c.PageReportingOrder, HostThp = c.HostThp,
            // The host's khugepaged wakes every millisecond, so that its collapses happen within the runs drawn.
            HostKhugepagedScanSleepMs = c.HostThp ? 1 : null, HostMemoryMaxMib = c.HostMemoryMaxMib,
        });
        for (int i = 0; i < c.Ops.Length; i++)
        {
            var before = State(sim);
            try
            {
                Apply(sim, c.Ops[i]);
            }
            catch (ArgumentException)
            {
                Assert.That(State(sim), Is.EqualTo(before), $"op {i} {c.Ops[i]} was refused and changed nothing");
            }
            Invariants(sim, c, $"after op {i} {c.Ops[i]}");
        }
    }

    private static void Apply(Simulation sim, Op op)
    {
        switch (op.Kind)
        {
            case Kind.Anon: sim.WorkloadAnon(op.Amount); break;
            case Kind.File: sim.WorkloadFile(op.Amount, dirty: op.Seed % 3 / 4.0); break;
            case Kind.Slab: sim.WorkloadSlab(op.Amount, reclaimable: op.Seed % 2 == 0); break;
            case Kind.Free: sim.WorkloadFree(op.Amount, op.Seed % 2 == 0 ? "interleave" : "random", op.Seed, FreeKind(op.Seed)); break;
            case Kind.Touch: sim.WorkloadTouch(op.Amount, "all", op.Seed % 2 == 0 ? "interleave" : "random", op.Seed); break;
            case Kind.SetTarget: sim.HostSetTarget(op.Amount); break;
            case Kind.Run: sim.Run(op.Amount); break;
            case Kind.Inflate: sim.BalloonInflate(op.Amount); break;
            case Kind.Deflate: sim.BalloonDeflate(op.Amount); break;
            case Kind.Compact: sim.Compact(); break;
            case Kind.Allocate: sim.Allocate(op.Order, op.Seed % 8); break;
        }
    }

    /// <summary>What a refused operation must leave as it was.</summary>
    private static string State(Simulation sim) => string.Join("|", Convert.ToHexString(sim.PageMap()), string.Join(",", sim.VmstatValues()),
        sim.BalloonPages, sim.HostBallooned, sim.HistoryOps.Count, sim.Reports.Count);

    private static void Invariants(Simulation sim, Case c, string where)
    {
        var kinds = sim.Reports.Select(r => r.KindName).Distinct().ToList();
        Assert.That(kinds, Is.SubsetOf(c.Design == "legacy" ? new[] { "balloon_unmovable" } : []),
            $"{where}: {sim.Reports.FirstOrDefault()}");
        long[] blocks = sim.FreeBlocks();
        long inBlocks = Enumerable.Range(0, blocks.Length).Sum(o => blocks[o] << o);
        long nrFree = sim.VmstatValues()[Array.IndexOf(sim.VmstatNames(), "nr_free_pages")];
        Assert.That(inBlocks, Is.EqualTo(nrFree), $"{where}: Σ nr_free·2^order = nr_free_pages");
        Assert.That(sim.ReportedFreePages, Is.InRange(0, Math.Min(nrFree, sim.HostReportedPages)),
            $"{where}: reported free pages are free pages the host was told of (none without free page reporting)");
        Assert.That(sim.HostBallooned + sim.BalloonUntoldPages, Is.EqualTo(sim.BalloonPages),
            $"{where}: the host's ledger is the guest's balloon, but for a batch a sleeping fill_balloon has not told yet");
        // A migrated balloon page's old page goes back through putback_lru_page (v3.18 unmap_and_move) and waits in a
        // pagevec, still tagged balloon, until the drain frees it.
        var map = sim.PageMap();
        var pagevecs = sim.Services.GetService(typeof(Pagevecs)) as Pagevecs;
        int parked = pagevecs is null ? 0 : Enumerable.Range(0, pagevecs.Cpus).SelectMany(pagevecs.LruAdd).Count(p => map[p] == (byte)PageKind.Balloon);
        Assert.That(map.Count(k => k == (byte)PageKind.Balloon), Is.EqualTo(sim.BalloonPages + parked), $"{where}: pages tagged balloon");
        if (sim.HasPsi)
        {
            long nowUs = ((Scheduler)sim.Services.GetService(typeof(Scheduler))!).NowNs / 1000;
            foreach (string text in new[] { sim.ProcPressureMemory(), sim.ProcPressureIo() })
            {
                var totals = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(line => long.Parse(line[(line.IndexOf("total=", StringComparison.Ordinal) + 6)..])).ToArray();
                Assert.That(totals[1], Is.InRange(0, totals[0]), $"{where}: PSI's FULL time is within its SOME time");
                Assert.That(totals[0], Is.LessThanOrEqualTo(nowUs), $"{where}: PSI's stall is within the time passed");
            }
        }
        HostBacking(sim, where);
    }

    /// <summary>The host's RAM block: every frame the guest has put data, page tables or a high-order block's contents on is backed, no frame the host
    /// holds as ballooned is (without host THP), the resident count is the backed frames', and a region mapped huge is backed whole.</summary>
    private static void HostBacking(Simulation sim, string where)
    {
        var ram = (RamBlock)sim.Services.GetService(typeof(RamBlock))!;
        var host = (BalloonHost)sim.Services.GetService(typeof(BalloonHost))!;
        var pages = (PageTable)sim.Services.GetService(typeof(PageTable))!;
        long backed = 0;
        for (int pfn = 0; pfn < sim.NrPages; pfn++)
        {
            bool isBacked = ram.IsBacked(pfn);
            if (isBacked) backed++;
            if (!isBacked && (pages.Content[pfn] != 0 || pages.Kind[pfn] is (byte)PageKind.PageTable or (byte)PageKind.Kernel))
                Assert.Fail($"{where}: pfn {pfn} holds {(PageKind)pages.Kind[pfn]} data (token {pages.Content[pfn]}) the guest wrote, but the host does not back it");
            // With host THP, a fault next to ballooned frames the host never backed maps a huge page over them too.
            if (isBacked && host.IsBallooned(pfn) && !sim.Options.HostThp) Assert.Fail($"{where}: pfn {pfn} is ballooned, yet the host still backs it");
        }
        Assert.That(ram.ResidentPages, Is.EqualTo(backed), $"{where}: resident pages = frames backed");
        Assert.That(ram.Refaults, Is.InRange(0, ram.Faults), $"{where}: refaults are faults");
        int huge = 0;
        for (int head = 0; head + 512 <= sim.NrPages; head += 512)
        {
            if (!ram.IsMappedHuge(head)) continue;
            huge++;
            if (!Enumerable.Range(head, 512).All(ram.IsBacked)) Assert.Fail($"{where}: the host maps pfn {head}'s region huge, yet not every frame of it is backed");
        }
        Assert.That(ram.HugePages, Is.EqualTo(huge), $"{where}: huge pages = regions mapped huge");
        if (!sim.Options.HostThp) Assert.That((ram.HugePages, ram.ThpSplits), Is.EqualTo((0L, 0L)), $"{where}: no huge page without host THP");
        Assert.That(ram.RecountDeferredSplitPages(), Is.EqualTo(ram.DeferredSplitPages),
            $"{where}: the frames held by split huge pages are their unmapped subpages, each huge page's mapped count its subpages'");
        if (ram.MemoryMax >= 0) Assert.That(ram.MemoryCurrent, Is.LessThanOrEqualTo(ram.MemoryMax), $"{where}: QEMU's cgroup within memory.max");
    }
}
