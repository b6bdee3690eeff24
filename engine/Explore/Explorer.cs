using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Runs many schedules of a scenario, each on a fresh simulation built from the same options (so only the
/// interleaving differs), and keeps every failing schedule's index and the first one's full record.
/// Cancelling an exploration (Ctrl-C) stops it between schedules, or inside one at a preemption point or where its
/// kernel paths test for a fatal signal; the schedule it stopped in is not counted, and the result covers the
/// schedules run before it.
/// </summary>
public static class Explorer
{
    /// <summary>Explore schedules [<paramref name="start"/>, start + <paramref name="count"/>) of a scenario by name.</summary>
    public static ExploreResult Explore(string scenario, string design, string strategy, int count, long seed, int start = 0, int pctDepth = 3,
        CancellationToken cancel = default)
    {
        var spec = ScenarioCatalog.Find(scenario);
        Check.InRange(count, "schedules", 1, 1_000_000);
        Check.InRange(start, "start", 0, int.MaxValue - count);
        return Explore(new ExploreRequest(spec, KernelDesign.Parse(design), strategy, seed, pctDepth), start, count, cancel);
    }

    public static string[] Scenarios => ScenarioCatalog.Names;

    /// <summary>One run of a scenario by name with every path run to completion in order (no interleaving).</summary>
    public static ScheduleRun Run(string scenario, string design, long seed) =>
        RunOne(new ExploreRequest(ScenarioCatalog.Find(scenario), KernelDesign.Parse(design), "random", seed), 0, null);

    internal static ExploreResult Explore(ExploreRequest request, int start, int count, CancellationToken cancel = default)
    {
        if (request.Strategy == "dfs")
        {
            Check.That(start == 0, "start", "dfs explores from the first schedule: start must be 0");
            return ExploreDfs(request, count, cancel);
        }
        long decisions = request.Strategy == "pct" ? Decisions(request) : 0;
        var tally = new Tally();
        int i = start;
        for (; i < start + count && !cancel.IsCancellationRequested; i++)
        {
            var run = RunOne(request, i, StrategyFor(request, i, decisions), cancel);
            if (cancel.IsCancellationRequested) break;
            tally.Add(run);
        }
        return tally.Result(i - start, exhausted: false);
    }

    /// <summary>Every schedule within the preemption bound (at most <paramref name="count"/>), depth first.</summary>
    private static ExploreResult ExploreDfs(ExploreRequest request, int count, CancellationToken cancel)
    {
        var dfs = new DfsStrategy(request.PctDepth);
        var tally = new Tally();
        int i = 0;
        while (!cancel.IsCancellationRequested)
        {
            var run = RunOne(request, i, dfs, cancel);
            if (cancel.IsCancellationRequested) break;
            tally.Add(run);
            if (++i == count || !dfs.Advance()) break;
        }
        return tally.Result(i, !cancel.IsCancellationRequested && (dfs.Exhausted || (i == count && !dfs.Advance())));
    }

    /// <summary>Failing schedules so far: how many, by kind, which, and the first one in full.</summary>
    private sealed class Tally
    {
        private readonly SortedDictionary<string, int> _byKind = [];
        private readonly List<int> _failing = [];
        private ScheduleRun? _first;

        public void Add(ScheduleRun run)
        {
            if (!run.Failed) return;
            _failing.Add(run.Index);
            _first ??= run;
            foreach (var kind in run.Reports.Select(r => r.KindName).Distinct())
                _byKind[kind] = _byKind.GetValueOrDefault(kind) + 1;
        }

        public ExploreResult Result(int schedules, bool exhausted) =>
            new(schedules, _failing.Count, _byKind, _first, _failing, exhausted);
    }

    internal static ScheduleRun RunOne(ExploreRequest request, int index, IScheduleStrategy? strategy, CancellationToken cancel = default)
    {
        using var provider = ServiceCollectionExtensions.BuildSimulationProvider(request.Options, validate: false, cancel);
        provider.GetRequiredService<Simulation>();
        var scheduler = provider.GetRequiredService<Scheduler>();
        var sanitizer = provider.GetRequiredService<Sanitizer>();
        var scenario = (IScenario)ActivatorUtilities.CreateInstance(provider, request.Scenario.Type);
        var tasks = scenario.Prepare();
        int before = sanitizer.Reports.Count;
        var metricsBefore = provider.GetRequiredService<ScenarioMetrics>().Read();
        var outcome = scheduler.Run(tasks, strategy);
        var trace = scheduler.Trace.ToArray();
        var choices = scheduler.Choices.ToArray();
        if (outcome.Deadlock is not null) sanitizer.Report(ReportKind.VmBug, -1, outcome.Deadlock);
        else if (!outcome.Interrupted) scenario.Finish();
        var metricsAfter = provider.GetRequiredService<ScenarioMetrics>().Read();
        return new ScheduleRun(request, index, choices, trace, sanitizer.Reports.Skip(before).ToArray(), outcome.Deadlock,
            metricsBefore, metricsAfter);
    }

    /// <summary>How many scheduling decisions a run of the scenario takes (PCT's k): one round-robin run.</summary>
    private static long Decisions(ExploreRequest request) =>
        Math.Max(1, RunOne(request, -1, new RoundRobinStrategy()).Choices.Count);

    private static IScheduleStrategy StrategyFor(ExploreRequest request, int index, long decisions)
    {
        long seed = request.ScheduleSeed(index);
        return request.Strategy switch
        {
            "random" => new RandomStrategy(seed),
            "pct" => new PctStrategy(seed, Math.Max(1, request.PctDepth), decisions),
            "roundrobin" => new RoundRobinStrategy(),
            _ => throw new ArgumentException($"unknown strategy {request.Strategy}"),
        };
    }
}
