using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore.Scenarios;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Virtio;

namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// The operations a race can give a CPU, built from what the simulation's own API does, each as one kernel path: the
/// balloon's fill and leak calls, compaction, high-order allocation with direct compaction, workload faults and frees,
/// one page's migration, the migrate scanner over a PFN range followed by migration or putback (the balloon
/// migratepage path), kswapd and direct reclaim where a design models reclaim, and a pass of free page reporting where
/// the guest has it. Python's <c>bs.op</c> is built from this table.
/// </summary>
internal static class RaceOps
{
    /// <summary>More than any guest has pages: the upper bound of a page count.</summary>
    public const long MaxPages = 1L << 24;

    private static readonly string[] Modes = ["async", "sync_light", "sync"];

    private static readonly OpParam Pages = new("pages", "int", null, "number of pages");
    private static readonly OpParam Mode = new("mode", "text", "sync", "migrate mode: async, sync_light or sync");

    public static readonly RaceOpKind[] Kinds =
    [
        new("inflate", "the balloon takes pages: fill_balloon calls of up to 256 PFNs each", [Pages],
            (a, kit) =>
            {
                long pages = a.Int("pages", 1, MaxPages);
                return new BoundOp($"fill_balloon({pages})", () => kit.FillBalloonCalls(pages), () => kit.FillBalloonCallsAsync(pages));
            }),
        new("deflate", "the balloon gives pages back: leak_balloon calls of up to 256 PFNs each", [Pages],
            (a, kit) =>
            {
                long pages = a.Int("pages", 1, MaxPages);
                return new BoundOp($"leak_balloon({pages})", () => kit.LeakBalloonCalls(pages), () => kit.LeakBalloonCallsAsync(pages));
            }),
        new("compact", "memory compaction: compact_memory's walk over every zone, or compact_zone of one zone (skip hints honoured)",
            [Mode, new("zone", "text", "", "zone name (DMA, DMA32, Normal); empty = every zone, as compact_memory")], Compact),
        new("allocate", "high-order allocations through alloc_pages' slow path with direct compaction (order 9 = THP fault)",
            [new("order", "int", null, "order, 0..10"), new("count", "int", "1", "attempts")], Allocate),
        new("anon", "a process faults in anonymous pages", [Pages], (a, kit) => Populate(a, kit, "anon")),
        new("file", "page-cache pages are read in", [Pages], (a, kit) => Populate(a, kit, "file")),
        new("slab", "unmovable slab pages are allocated", [Pages], (a, kit) => Populate(a, kit, "slab")),
        new("free", "the workload frees a fraction of its pages (munmap, truncate, kmem_cache_free)",
            [new("fraction", "real", null, "fraction of the workload's pages, 0..1"),
             new("pattern", "text", "interleave", "interleave or random"), new("seed", "int", "0", "seed of the random pattern")], Free),
        new("migrate", "migrate_pages of one LRU page, isolated (isolate_lru_page) and given a target before the race",
            [new("pfn", "int", null, "the page"), Mode], Migrate),
        new("isolate", "the migrate scanner (isolate_migratepages_range) over [start, end), then migrate_pages or putback_movable_pages",
            [new("start", "int", "-1", "first pfn; -1 = the lowest balloon page"), new("end", "int", "-1", "end pfn; -1 = past the highest balloon page in start's zone"),
             Mode, new("then", "text", "putback", "putback or migrate")], Isolate),
        new("kswapd", "wake kswapd for an order (wake_all_kswapds, as a user allocation does)", [new("order", "int", "0", "order, 0..10")],
            (a, kit) =>
            {
                int order = (int)a.Int("order", 0, Zone.MaxOrder - 1);
                // Waking kswapd passes no preemption point: run as it is in a run as continuations.
                return new BoundOp("wake_all_kswapds", () => kit.Reclaim.WakeAllKswapds(order, Gfp.HighUserMovable), () =>
                {
                    kit.Reclaim.WakeAllKswapds(order, Gfp.HighUserMovable);
                    return default;
                });
            },
            ReclaimMissing),
        new("reclaim", "one direct reclaim call (try_to_free_pages) for an allocation of an order", [new("order", "int", "0", "order, 0..10")],
            (a, kit) =>
            {
                int order = (int)a.Int("order", 0, Zone.MaxOrder - 1);
                return new BoundOp($"try_to_free_pages(order {order})", () => kit.Reclaim.TryToFreePages(order, Gfp.Kernel),
                    async () => await kit.Reclaim.TryToFreePagesAsync(order, Gfp.Kernel));
            },
            ReclaimMissing),
        new("report", "one pass of free page reporting (page_reporting_process, as its delayed work runs it): free blocks of 2 MiB and up reported to the host, 32 at a time", [],
            (a, kit) =>
            {
                var reporting = kit.Reporting!; // Missing below refused a guest without it
                return new BoundOp("page_reporting_process", reporting.Process, async () => await reporting.ProcessAsync());
            },
            options => options.FreePageReporting ? null : "it was built without free_page_reporting (a v6.1 guest with free_page_reporting=True has it)"),
    ];

    public static string[] Names => Kinds.Select(k => k.Name).ToArray();

    /// <summary>The kind called <paramref name="kind"/>; ArgumentException naming <paramref name="where"/> and the kinds otherwise.</summary>
    public static RaceOpKind Find(string where, string kind) =>
        Kinds.FirstOrDefault(k => k.Name == kind)
        ?? throw new ArgumentException($"{where}: operation must be one of {string.Join(", ", Names)}, got '{kind}'", where);

    /// <summary>Check <paramref name="op"/> against a simulation's <paramref name="options"/> without touching it.</summary>
    public static RaceOpKind Check(string where, RaceOp op, SimulationOptions options)
    {
        var kind = Find(where, op.Kind);
        string? missing = kind.Missing?.Invoke(options);
        Engine.Check.That(missing is null, where, $"this simulation ({options.Design.Name}) has no {kind.Name} operation: {missing}");
        return kind;
    }

    /// <summary>Check <paramref name="op"/> and bind it to the simulation of <paramref name="kit"/> (its set-up runs now).</summary>
    public static BoundOp Bind(string where, RaceOp op, ScenarioKit kit)
    {
        var kind = Check(where, op, kit.Sim.Options);
        return kind.Bind(new OpArgs(where, kind, op.Args), kit);
    }

    private static string? ReclaimMissing(SimulationOptions options) =>
        options.Design.Parts.Reclaim == PartVersion.NotModelled ? "its design does not model reclaim (kswapd, direct reclaim)"
        : !options.Reclaim ? "it was built with reclaim=False" : null;

    private static MigrateMode ModeOf(OpArgs a) => (MigrateMode)Array.IndexOf(Modes, a.OneOf("mode", Modes));

    private static BoundOp Compact(OpArgs a, ScenarioKit kit)
    {
        var mode = ModeOf(a);
        string zoneName = a.Text("zone");
        if (zoneName == "")
            return new BoundOp(mode == MigrateMode.Sync ? "compact_memory" : $"compact_memory({a.Text("mode")})", () => kit.Compaction.CompactNode(mode),
                async () => await kit.Compaction.CompactNodeAsync(mode));
        a.OneOf("zone", [.. kit.Node.Zones.Select(z => z.Name)]);
        var zone = kit.Node.Zones.First(z => z.Name == zoneName);
        return new BoundOp($"compact_zone({zoneName}, {a.Text("mode")})", () => kit.CompactZone(zone, mode), async () => await kit.CompactZoneAsync(zone, mode));
    }

    private static BoundOp Allocate(OpArgs a, ScenarioKit kit)
    {
        int order = (int)a.Int("order", 0, Zone.MaxOrder - 1);
        long count = a.Int("count", 1, Simulation.MaxAllocateCount);
        return new BoundOp($"alloc_pages(order {order}) x{count}", () => kit.HighOrder.Allocate(order, count),
            async () => await kit.HighOrder.AllocateAsync(order, count));
    }

    /// <summary>Faults of <c>pages</c> pages; at run time no more than the allocator can give then (another CPU may have taken memory).</summary>
    private static BoundOp Populate(OpArgs a, ScenarioKit kit, string what)
    {
        long pages = a.Int("pages", 1, Math.Max(1, kit.Workload.AllocatablePages()));
        return new BoundOp($"{what} fault x{pages}", () => kit.Fault(what, pages), () => kit.FaultAsync(what, pages));
    }

    private static BoundOp Free(OpArgs a, ScenarioKit kit)
    {
        double fraction = a.Real("fraction", 0, 1);
        string pattern = a.OneOf("pattern", Workload.Workload.Patterns);
        long seed = a.Int("seed", long.MinValue, long.MaxValue);
        return new BoundOp($"free {fraction:0.###} {pattern}", () => kit.Workload.Free(fraction, pattern, seed),
            async () => await kit.Workload.FreeAsync(fraction, pattern, seed));
    }

    /// <summary>isolate_lru_page onto a private list and a target from the free lists now; migrate_pages in the race.</summary>
    private static BoundOp Migrate(OpArgs a, ScenarioKit kit)
    {
        int pfn = (int)a.Int("pfn", 0, kit.Pages.NrPages - 1);
        var mode = ModeOf(a);
        Engine.Check.That(kit.Pages.PageLru(pfn), a.Name("pfn"), $"pfn {pfn} is not on an LRU list ({(PageKind)kit.Pages.Kind[pfn]})");
        int list = kit.NewList();
        kit.IsolateLru(pfn, list);
        int target = kit.Target();
        Engine.Check.That(target >= 0, a.Name("pfn"), "no free page left for the migration target");
        return new BoundOp($"migrate_pages(pfn {pfn} -> {target})", () => kit.MigrateTo(list, target, mode), () => kit.MigrateToAsync(list, target, mode),
            () => kit.FreeList(list), target);
    }

    private static BoundOp Isolate(OpArgs a, ScenarioKit kit)
    {
        int n = kit.Pages.NrPages;
        long start = a.Int("start", -1, n - 1), end = a.Int("end", -1, n);
        if (start < 0 || end < 0)
        {
            int lowest = kit.Pages.Kind.IndexOf((byte)PageKind.Balloon);
            Engine.Check.That(lowest >= 0, a.Name(start < 0 ? "start" : "end"), "-1 means the balloon's pages, but the balloon is empty");
            if (start < 0) start = lowest;
            if (end < 0)
            {
                // The scanner works in one zone: the balloon's pages from start to the end of start's zone.
                var zone = kit.Node.ZoneOf((int)start);
                int last = kit.Pages.Kind.AsSpan()[(int)start..zone.EndPfn].LastIndexOf((byte)PageKind.Balloon);
                Engine.Check.That(last >= 0, a.Name("end"), $"-1 means past the highest balloon page in start's zone ({zone.Name}), but it has none from {start} on");
                end = start + last + 1;
            }
        }
        Engine.Check.That(start < end, a.Name("end"), $"must be above start ({start}), got {end}");
        Engine.Check.That(kit.Node.ZoneOf((int)start) == kit.Node.ZoneOf((int)end - 1), a.Name("end"),
            $"[{start}, {end}) spans zones {kit.Node.ZoneOf((int)start).Name} and {kit.Node.ZoneOf((int)end - 1).Name}: the scanner works in one");
        var mode = ModeOf(a);
        bool migrate = a.OneOf("then", "putback", "migrate") == "migrate";
        string name = $"isolate_migratepages_range({start}, {end}, {a.Text("mode")}) + {(migrate ? "migrate_pages" : "putback_movable_pages")}";
        var (low, high) = ((int)start, (int)end);
        return migrate
            ? new BoundOp(name, () => kit.IsolateAndMigrate(low, high, mode), () => kit.IsolateAndMigrateAsync(low, high, mode))
            : new BoundOp(name, () => kit.IsolateAndPutback(low, high, mode), () => kit.IsolateAndPutbackAsync(low, high, mode));
    }
}
