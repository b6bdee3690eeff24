using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Schedule minimisation: a schedule with as few preemptions as possible that fails the same way as a given one
/// (the same <see cref="ScheduleRun.Signature"/>). First greedily: take preemptions out one at a time (the running
/// path goes on instead, <see cref="GuidedStrategy"/>), keeping each change after which it still fails that way. Then,
/// as iterative context bounding does, a bounded search with 0, 1, 2, ... preemptions below that count, within
/// <see cref="SearchBudget"/> schedules: the first schedule there that fails the same way has the fewest preemptions
/// any schedule of the race can fail that way with.
/// </summary>
internal static class Minimizer
{
    /// <summary>Schedules the bounded search may run in all.</summary>
    public const int SearchBudget = 20_000;

    /// <summary>The highest bound the search tries (each bound costs about the square of the one below).</summary>
    public const int MaxSearchBound = 3;

    public static ScheduleRun Minimize(ScheduleRun failing)
    {
        Check.That(failing.Failed, "run", $"schedule {failing.Index} did not fail: there is nothing to keep while minimising");
        var best = Greedy(failing);
        int budget = SearchBudget;
        for (int bound = 0; bound < Math.Min(best.Preemptions, MaxSearchBound + 1) && budget > 0; bound++)
        {
            var dfs = new DfsStrategy(bound);
            do
            {
                var run = best.Race.Run(best.Index, dfs);
                budget--;
                if (run.Signature == best.Signature && run.Preemptions < best.Preemptions) return run;
            }
            while (budget > 0 && dfs.Advance());
        }
        return best;
    }

    private static ScheduleRun Greedy(ScheduleRun failing)
    {
        var best = failing;
        for (bool shorter = true; shorter;)
        {
            shorter = false;
            foreach (int decision in best.PreemptionDecisions)
            {
                var candidate = best.Race.Run(best.Index, new GuidedStrategy(best.Choices, decision));
                if (candidate.Signature != best.Signature || candidate.Preemptions >= best.Preemptions) continue;
                best = candidate;
                shorter = true;
                break;
            }
        }
        return best;
    }
}
