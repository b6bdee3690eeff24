using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Runs many schedules of a scenario, each on a fresh simulation built from the same options (so only the
/// interleaving differs), and keeps every failing schedule's index and the first one's full record.
/// </summary>
public static class Explorer
{
    /// <summary>Explore schedules [<paramref name="start"/>, start + <paramref name="count"/>) of a scenario by name.</summary>
    public static ExploreResult Explore(string scenario, string design, string strategy, int count, long seed, int start = 0, int pctDepth = 3)
    {
        var spec = ScenarioCatalog.Find(scenario);
        Check.InRange(count, "schedules", 1, 1_000_000);
        Check.InRange(start, "start", 0, int.MaxValue - count);
        return Explore(new ExploreRequest(spec, design, strategy, seed, pctDepth), start, count);
    }

    public static string[] Scenarios => ScenarioCatalog.Names;

    /// <summary>One run of a scenario by name with every path run to completion in order (no interleaving).</summary>
    public static ScheduleRun Run(string scenario, string design, long seed) =>
        RunOne(new ExploreRequest(ScenarioCatalog.Find(scenario), design, "random", seed), 0, null);

    internal static ExploreResult Explore(ExploreRequest request, int start, int count)
    {
        long decisions = request.Strategy == "pct" ? Decisions(request) : 0;
        int failing = 0;
        var byKind = new SortedDictionary<string, int>();
        var failingIndices = new List<int>();
        ScheduleRun? first = null;
        for (int i = start; i < start + count; i++)
        {
            var run = RunOne(request, i, StrategyFor(request, i, decisions));
            if (!run.Failed) continue;
            failing++;
            failingIndices.Add(i);
            first ??= run;
            foreach (var kind in run.Reports.Select(r => r.KindName).Distinct())
                byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
        }
        return new ExploreResult(count, failing, byKind, first, failingIndices);
    }

    internal static ScheduleRun RunOne(ExploreRequest request, int index, IScheduleStrategy? strategy)
    {
        using var provider = new ServiceCollection().AddBalloonScript(request.Options).BuildServiceProvider();
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
        else scenario.Finish();
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
            "pct" => new PctStrategy(seed, request.PctDepth, decisions),
            "roundrobin" => new RoundRobinStrategy(),
            _ => throw new ArgumentException($"unknown strategy {request.Strategy}"),
        };
    }
}
