using BalloonScript.Engine.Explore;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Explore;

/// <summary>
/// Sleep sets over the bounded DFS (<c>reduction: "sleep-sets"</c>): on every preset under legacy, the search finds
/// every failure signature the plain search finds, in fewer schedules (the presets with one CPU have one schedule),
/// and still covers its bound.
/// </summary>
public class PartialOrderReductionTests
{
    private static string[] Signatures(ExploreResult r) => [.. r.Failures.Select(f => f.Signature).Distinct().Order(StringComparer.Ordinal)];

    [Test]
    public void SleepSets_EveryLegacyPreset_FindsEverySignaturePlainDfsFinds_InFewerSchedules(
        [ValueSource(typeof(ScenarioCatalog), nameof(ScenarioCatalog.Names))] string scenario) => Compare(scenario, 2);

    /// <summary>Three preemptions, where the plain search stays under its 100,000 maximum in a few seconds.</summary>
    [TestCase("scan-vs-migrate")]
    [TestCase("newpage-after-unlock")]
    public void SleepSets_ThreePreemptions_FindsEverySignaturePlainDfsFinds_InFewerSchedules(string scenario) => Compare(scenario, 3);

    private static void Compare(string scenario, int bound)
    {
        var plain = Explorer.Explore(scenario, "legacy", "dfs", 100_000, 0, pctDepth: bound);
        var reduced = Explorer.Explore(scenario, "legacy", "dfs", 100_000, 0, pctDepth: bound, reduction: "sleep-sets");
        TestContext.Out.WriteLine($"{scenario} bound {bound}: {plain.Schedules} schedules plain, {reduced.Schedules} with sleep sets " +
            $"({reduced.PrunedRuns} runs cut short, {reduced.SkippedOptions} options skipped)");
        Assert.That(plain.Exhausted && reduced.Exhausted, "both searches covered the bound");
        Assert.That(Signatures(reduced), Is.EqualTo(Signatures(plain)));
        Assert.That(reduced.FailingByKind.Keys, Is.EqualTo(plain.FailingByKind.Keys));
        if (plain.Schedules > 1) Assert.That(reduced.Schedules, Is.LessThan(plain.Schedules));
        Assert.That(reduced.Reduction, Is.EqualTo("sleep-sets"));
    }
}
