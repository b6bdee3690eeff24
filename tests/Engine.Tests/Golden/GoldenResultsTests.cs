using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Golden;

/// <summary>
/// Results pinned bit for bit: whole page state, /proc text, vmstat, history and sanitizer reports after each
/// step of fixed workloads, and exploration outcomes of every scenario under every strategy, compared with
/// <c>golden.json</c>, which was written by the code before the five-kernel refactor (issue 8). A change that
/// alters any of them fails here. Regenerate only for a deliberate change of results, with
/// <c>BALLOONSCRIPT_UPDATE_GOLDEN=1 dotnet test --filter GoldenResults</c>, and say why in the commit.
/// </summary>
public class GoldenResultsTests
{
    private static readonly string[] Designs = ["legacy", "redesign", "fixed"]; // the designs golden.json was written for

    /// <summary>The vmstat counters the files were written with; counters added since are not part of the pinned results.</summary>
    private static readonly string[] VmstatNames =
    [
        "nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable",
        "nr_anon_pages", "nr_file_pages", "nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file",
        "pgmigrate_success", "pgmigrate_fail", "compact_migrate_scanned", "compact_free_scanned", "compact_isolated",
        "compact_stall", "compact_fail", "compact_success", "thp_fault_alloc", "thp_fault_fallback",
        "balloon_inflate", "balloon_deflate", "balloon_migrate",
    ];

    /// <summary>The history columns the files were written with.</summary>
    private static readonly string[] HistoryColumns =
        ["sched_step", .. Enumerable.Range(0, 11).Select(o => $"free_order{o}"), "extfrag_9", "unusable_9", .. VmstatNames];

    [Test]
    public void WorkloadsBalloonAndCompaction_MatchTheGoldenFile() => Compare("workloads", Workloads());

    [Test]
    public void Explorations_MatchTheGoldenFile() => Compare("explorations", Explorations());

    private static SortedDictionary<string, string> Workloads()
    {
        var results = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var design in Designs)
            foreach (bool pcp in new[] { false, true })
            {
                // Every report kept, as when the file was written (the cap came later; the counts are the same).
                var rig = new SimRig(TestOptions.Classic(192, 2, 1, design) with { PerCpuLists = pcp, MaxReportsPerKind = 1_000_000_000 });
                var sim = rig.Sim;
                string key = $"canonical/{design}/pcp={pcp}";
                void Step(string name, Func<long> op) => results[$"{key}/{name}"] = $"{op()} {StateHash(rig)}";
                Step("anon", () => sim.WorkloadAnon(192 * 0.6));
                Step("file", () => sim.WorkloadFile(192 * 0.25));
                Step("slab", () => sim.WorkloadSlab(3));
                Step("free-interleave", () => sim.WorkloadFree(0.5, "interleave", 2));
                Step("inflate", () => sim.BalloonInflate(48));
                Step("free-random", () => sim.WorkloadFree(0.85, "random", 3));
                Step("compact", () => sim.Compact().Migrated);
                Step("allocate", () => sim.Allocate(9, 96));
                Step("deflate", () => sim.BalloonDeflate(16));
                Step("anon-again", () => sim.WorkloadAnon(8));
                Step("free-again", () => sim.WorkloadFree(0.3, "random", 4));
                Step("allocate-order3", () => sim.Allocate(3, 200));
                Step("compact-again", () => sim.Compact().Migrated);
                results[$"{key}/history"] = Hash(Encoding.UTF8.GetBytes(string.Join(",", sim.HistoryOps)), Bytes(PinnedHistory(sim).AsSpan()));
            }
        return results;
    }

    private static SortedDictionary<string, string> Explorations()
    {
        var results = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var scenario in Explorer.Scenarios)
            foreach (var design in Designs)
            {
                results[$"{scenario}/{design}/run"] = Describe(Explorer.Run(scenario, design, 1));
                results[$"{scenario}/{design}/random"] = Describe(Explorer.Explore(scenario, design, "random", 120, 1));
                results[$"{scenario}/{design}/pct"] = Describe(Explorer.Explore(scenario, design, "pct", 60, 7, pctDepth: 3));
                results[$"{scenario}/{design}/roundrobin"] = Describe(Explorer.Explore(scenario, design, "roundrobin", 2, 1));
            }
        foreach (var scenario in new[] { "scan-vs-migrate", "deflate-vs-isolate" })
            foreach (var design in Designs)
                results[$"{scenario}/{design}/dfs2"] = Describe(Explorer.Explore(scenario, design, "dfs", 100_000, 0, pctDepth: 2));
        results["deflate-vs-migrate/redesign/dfs1"] = Describe(Explorer.Explore("deflate-vs-migrate", "redesign", "dfs", 100_000, 0, pctDepth: 1));
        return results;
    }

    private static string Describe(ExploreResult r) =>
        $"schedules={r.Schedules} failing={r.Failing} exhausted={r.Exhausted} " +
        $"kinds={string.Join(",", r.FailingByKind.Select(kv => $"{kv.Key}:{kv.Value}"))} " +
        $"indices={Hash(Bytes(r.FailingIndices.ToArray().AsSpan()))} " +
        $"first={(r.FirstFailure is null ? "none" : Describe(r.FirstFailure))}";

    private static string Describe(ScheduleRun run) =>
        $"[{run.Index} choices={Hash(Bytes(run.Choices.ToArray().AsSpan()))} " +
        $"trace={Hash(Encoding.UTF8.GetBytes(string.Join("\n", run.Trace.Select(t => $"{t.Step} {t.Cpu} {t.Task} {t.Point}"))))} " +
        $"reports={Hash(Encoding.UTF8.GetBytes(string.Join("\n", run.Reports.Select(r => r.ToString()))))} " +
        $"deadlock={run.Deadlock ?? "none"} before={string.Join(",", run.MetricsBefore)} after={string.Join(",", run.MetricsAfter)}]";

    /// <summary>Every field of every struct page, the /proc text, vmstat and the reports so far.</summary>
    private static string StateHash(SimRig rig)
    {
        var p = rig.Pages;
        var sim = rig.Sim;
        return Hash(
            Bytes(p.Flags.AsSpan()), Bytes(p.Count.AsSpan()), Bytes(p.MapCount.AsSpan()),
            Bytes(p.Mapping.AsSpan()), Bytes(p.Private.AsSpan()), Bytes(p.Index.AsSpan()),
            Bytes(p.Content.AsSpan()), p.Kind.ToArray(),
            Encoding.UTF8.GetBytes(sim.Buddyinfo() + sim.Pagetypeinfo() + sim.ExtfragText() + sim.UnusableText()),
            Bytes(Pick(sim.VmstatNames(), sim.VmstatValues(), VmstatNames).AsSpan()),
            Encoding.UTF8.GetBytes($"{sim.BalloonPages} {sim.HostBallooned} " + string.Join("\n", sim.Reports.Select(r => r.ToString()))));
    }

    /// <summary>The values of <paramref name="wanted"/> among (<paramref name="names"/>, <paramref name="values"/>), in the order wanted.</summary>
    private static T[] Pick<T>(string[] names, T[] values, string[] wanted) =>
        wanted.Select(w => values[Array.IndexOf(names, w) is var i and >= 0 ? i : throw new KeyNotFoundException(w)]).ToArray();

    /// <summary>The history rows restricted to the pinned columns, row-major.</summary>
    private static double[] PinnedHistory(Simulation sim)
    {
        var columns = sim.HistoryColumns();
        var values = sim.HistoryValues();
        return values.Chunk(columns.Length).SelectMany(row => Pick(columns, row, HistoryColumns)).ToArray();
    }

    private static byte[] Bytes<T>(ReadOnlySpan<T> span) where T : struct => MemoryMarshal.AsBytes(span).ToArray();

    private static string Hash(params byte[][] parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts) sha.AppendData(part);
        return Convert.ToHexString(sha.GetHashAndReset())[..16];
    }

    private static void Compare(string section, SortedDictionary<string, string> actual, [CallerFilePath] string source = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(source)!, $"golden-{section}.json");
        if (Environment.GetEnvironmentVariable("BALLOONSCRIPT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, JsonSerializer.Serialize(actual, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Assert.Inconclusive($"wrote {path}");
        }
        Assert.That(File.Exists(path), $"{path} is missing: generate it from a trusted build (see the class comment)");
        var expected = JsonSerializer.Deserialize<SortedDictionary<string, string>>(File.ReadAllText(path))!;
        Assert.Multiple(() =>
        {
            Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys), "the same results are computed");
            foreach (var (key, value) in expected)
                if (actual.TryGetValue(key, out var got)) Assert.That(got, Is.EqualTo(value), key);
        });
    }
}
