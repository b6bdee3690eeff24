using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;
using BalloonScript.Engine.Mm;
using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// Races a user could write (issue 11): random guests (every design, with and without per-cpu lists, pagevecs, reclaim
/// and swap), prepared with random workloads and a balloon, then one to three operations on each of two or three CPUs,
/// explored under random and PCT schedules. Whatever the race, the engine never fails (a race it cannot build is an
/// ArgumentException, nothing else), every failing schedule replays to the same reports, and the designs that fixed
/// every balloon race (fixed, movable, v6.1) report nothing at all: a finding there would be the model's, not the
/// kernel's. The same random search, run as a script before it became this test, found the ten faults of the model
/// under concurrency that README ("Your own races") lists; each has a test of its own in <see cref="RaceTests"/>.
/// </summary>
public class RandomRacesPropertyTests
{
    private static readonly string[] Kinds = ["inflate", "deflate", "compact", "allocate", "anon", "file", "slab", "free", "migrate", "isolate", "kswapd", "reclaim"];
    private static readonly string[] Modes = ["sync", "async", "sync_light"];
    private static readonly string[] Clean = ["fixed", "movable", "v6.1"];

    /// <summary>One operation as drawn: a kind and numbers its arguments are made of (a migrate's page is the <c>Pick</c>-th LRU page).</summary>
    public readonly record struct Drawn(string Kind, int Pages, int Choice, int Pick, double Fraction);

    /// <summary>A guest, how it is prepared (MiB of anon, file and balloon; a free), and what each CPU runs.</summary>
    public sealed record Case(string Design, int MemoryMib, int Cpus, bool PerCpuLists, bool Pagevecs, bool Reclaim, bool Swap,
        double AnonMib, double FileMib, double BalloonMib, double FreeFraction, Drawn[][] CpuOps, bool Pct, int Seed)
    {
        public override string ToString() =>
            $"{Design} {MemoryMib} MiB {Cpus} cpus pcp={PerCpuLists} pvec={Pagevecs} reclaim={Reclaim} swap={Swap}; anon {AnonMib:0.##} file {FileMib:0.##} " +
            $"balloon {BalloonMib:0.##} free {FreeFraction:0.##}; {string.Join(" || ", CpuOps.Select(ops => string.Join(", ", ops)))}; {(Pct ? "pct" : "random")} {Seed}";
    }

    private static readonly Gen<Drawn> Op = Gen.Select(Gen.OneOfConst(Kinds), Gen.Int[1, 64], Gen.Int[0, 8], Gen.Int[0, 999], Gen.Double[0, 1],
        (kind, pages, choice, pick, fraction) => new Drawn(kind, pages, choice, pick, Math.Round(fraction, 3)));

    private static readonly Gen<Case> Cases =
        from design in Gen.OneOfConst(KernelDesign.All.Select(d => d.Name).ToArray())
        from memory in Gen.OneOfConst(16, 24, 32)
        from cpus in Gen.Int[2, 3]
        from flags in Gen.Int[0, 15]
        from swap in Gen.Bool
        from anon in Gen.Double[0, 0.3]
        from file in Gen.Double[0, 0.2]
        from balloon in Gen.Double[0, 0.3]
        from free in Gen.Double[0, 1]
        from running in Gen.Int[2, cpus]
        from ops in Op.Array[1, 3].Array[running]
        from pct in Gen.Bool
        from seed in Gen.Int[0, 999]
        select new Case(design, memory, cpus, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 4) != 0 && swap,
            Math.Round(anon * memory, 2), Math.Round(file * memory, 2), Math.Round(balloon * memory, 2), Math.Round(free, 2), ops, pct, seed);

    [Test]
    public void AnyRaceOfTheOperations_NeverBreaksTheEngine_ReplaysItsFailures_AndTheFixedDesignsReportNothing() =>
        Property.ForAll(Cases, 60, 11, c => Bounded.Run(() => Check(c), $"the race {c}", seconds: 60));

    private static void Check(Case c)
    {
        var sim = Prepare(c);
        Race race;
        try { race = RaceBuilder.FromOps(sim, Bind(c, sim)); }
        catch (ArgumentException) { return; } // refused, as a user's bad race is: nothing to explore
        var result = Explorer.Explore(race, new ExploreRequest(c.Pct ? "pct" : "random", c.Seed, threads: 1), 0, 20);

        if (Clean.Contains(c.Design))
            Assert.That(result.Failing, Is.Zero, () => $"{c.Design} reported {string.Join(", ", result.FailingByKind)}: " +
                string.Join("; ", result.FirstFailure!.Reports.Take(2).Select(r => r.ToString())));
        if (result.FirstFailure is { } first)
            Assert.That(first.Replay().Reports.Select(r => r.ToString()), Is.EqualTo(first.Reports.Select(r => r.ToString())), "replayed");
    }

    private static Simulation Prepare(Case c)
    {
        var sim = Simulation.Create(TestOptions.Classic(c.MemoryMib, c.Cpus, c.Seed, c.Design) with
        {
            PerCpuLists = c.PerCpuLists, Pagevecs = c.Pagevecs, Reclaim = c.Reclaim, SwapMib = c.Swap ? 8 : 0,
        });
        sim.WorkloadAnon(c.AnonMib);
        sim.WorkloadFile(c.FileMib);
        sim.BalloonInflate(Math.Min(c.BalloonMib, sim.InflatableMaxPages() / 256.0));
        sim.WorkloadFree(c.FreeFraction, "random", c.Seed);
        return sim;
    }

    /// <summary>The drawn operations as a user would write them: the balloon's only on the first CPU that has any (one driver thread), each LRU page migrated once.</summary>
    private static (int Cpu, IReadOnlyList<RaceOp> Ops)[] Bind(Case c, Simulation sim)
    {
        var map = sim.PageMap();
        var lru = Enumerable.Range(0, map.Length).Where(p => map[p] is (byte)PageKind.Anon or (byte)PageKind.File).ToList();
        int driverCpu = Array.FindIndex(c.CpuOps, ops => ops.Any(o => o.Kind is "inflate" or "deflate"));
        bool balloon = sim.BalloonPages > 0;
        return c.CpuOps.Select((ops, cpu) => (cpu, (IReadOnlyList<RaceOp>)ops.Select(o => Of(o, cpu == driverCpu, c.Reclaim, balloon, lru)).ToArray())).ToArray();
    }

    /// <summary>One drawn operation; what the guest cannot run (a second driver CPU, reclaim without it, isolate on no balloon) becomes a compaction.</summary>
    private static RaceOp Of(Drawn o, bool driver, bool reclaim, bool balloon, List<int> lru) => o.Kind switch
    {
        "inflate" or "deflate" when driver => RaceOp.Of(o.Kind, ("pages", o.Pages)),
        "anon" or "file" or "slab" => RaceOp.Of(o.Kind, ("pages", o.Pages)),
        "compact" => RaceOp.Of("compact", ("mode", Modes[o.Choice % 3])),
        "allocate" => RaceOp.Of("allocate", ("order", new[] { 0, 1, 3, 9 }[o.Choice % 4]), ("count", 1 + o.Pick % 3)),
        "free" => RaceOp.Of("free", ("fraction", o.Fraction), ("pattern", o.Choice % 2 == 0 ? "interleave" : "random"), ("seed", o.Pick)),
        "migrate" when lru.Count > 0 => Migrate(o, lru),
        "isolate" when balloon => RaceOp.Of("isolate", ("mode", Modes[o.Choice % 2]), ("then", o.Pick % 2 == 0 ? "putback" : "migrate")),
        "kswapd" or "reclaim" when reclaim => RaceOp.Of(o.Kind, ("order", new[] { 0, 0, 2, 9 }[o.Choice % 4])),
        _ => RaceOp.Of("compact"),
    };

    private static RaceOp Migrate(Drawn o, List<int> lru)
    {
        int pfn = lru[o.Pick % lru.Count];
        lru.Remove(pfn);
        return RaceOp.Of("migrate", ("pfn", pfn), ("mode", Modes[o.Choice % 3]));
    }
}
