using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
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

/// <summary>
/// Two CPUs each run <see cref="Steps"/> read-modify-writes of a counter with a preemption point between the read and
/// the write: a page's <c>_count</c> they share (a lost update through page state), a page's <c>_count</c> of their
/// own, or a zone counter they share (state partial-order reduction compares whole). The counters are put back before
/// the whole-memory checks.
/// </summary>
internal abstract class CounterScenario(Scheduler scheduler, Sanitizer sanitizer) : IScenario
{
    public const int Steps = 3;

    protected abstract long this[int cpu] { get; set; }

    public void Prepare(RaceBuilder race)
    {
        long before0 = this[0], before1 = this[1];
        bool shared = before0 == before1 && SameCounter;
        race.Task(0, "inc0", () => Increment(0));
        race.Task(1, "inc1", () => Increment(1));
        race.Finish(() =>
        {
            long total = shared ? this[0] : this[0] + this[1];
            if (total != (shared ? before0 : before0 + before1) + 2 * Steps) sanitizer.Report(ReportKind.VmBug, -1, "lost update");
            this[0] = before0;
            this[1] = before1;
        });
    }

    protected abstract bool SameCounter { get; }

    private void Increment(int cpu)
    {
        for (int i = 0; i < Steps; i++)
        {
            long seen = this[cpu];
            scheduler.Preempt("between read and write");
            this[cpu] = seen + 1;
            scheduler.Preempt("after write");
        }
    }
}

internal sealed class SharedPageScenario(Scheduler scheduler, Sanitizer sanitizer, PageTable pages) : CounterScenario(scheduler, sanitizer)
{
    protected override bool SameCounter => true;

    protected override long this[int cpu]
    {
        get => pages.Count[100];
        set => pages.Count[100] = (int)value;
    }
}

internal sealed class OwnPageScenario(Scheduler scheduler, Sanitizer sanitizer, PageTable pages) : CounterScenario(scheduler, sanitizer)
{
    protected override bool SameCounter => false;

    protected override long this[int cpu]
    {
        get => pages.Count[100 + cpu];
        set => pages.Count[100 + cpu] = (int)value;
    }
}

internal sealed class SharedZoneCounterScenario(Scheduler scheduler, Sanitizer sanitizer, Node node) : CounterScenario(scheduler, sanitizer)
{
    protected override bool SameCounter => true;

    protected override long this[int cpu]
    {
        get => node.Zones[0].Stat[(int)ZoneStat.NrIsolatedAnon];
        set => node.Zones[0].Stat[(int)ZoneStat.NrIsolatedAnon] = value;
    }
}

public class PartialOrderReductionOnPageStateTests
{
    private static ExploreResult Explore(Type scenario, string reduction, int bound) =>
        Explorer.Explore(new ScenarioSpec("page-count", "test race", 16, 2, scenario).Prepare(KernelDesign.Legacy, 0),
            new ExploreRequest("dfs", 0, bound, reduction), 0, 100_000);

    [Test]
    public void SharedCounter_TheLostUpdateIsFoundWithAndWithoutReduction(
        [Values(typeof(SharedPageScenario), typeof(SharedZoneCounterScenario))] Type scenario, [Values(1, 2, 3)] int bound)
    {
        var plain = Explore(scenario, "none", bound);
        var reduced = Explore(scenario, "sleep-sets", bound);
        Assert.That(plain.Exhausted && reduced.Exhausted);
        Assert.That(plain.FailingByKind.Keys, Is.EqualTo(new[] { "vm_bug" }));
        Assert.That(reduced.FailingByKind.Keys, Is.EqualTo(new[] { "vm_bug" }));
        Assert.That(reduced.Schedules, Is.LessThanOrEqualTo(plain.Schedules));
    }

    /// <summary>Steps on different pages commute: every interleaving is equivalent to running one path after the other.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void OwnPages_EveryInterleavingIsEquivalent_SleepSetsRunFarFewer(int bound)
    {
        var plain = Explore(typeof(OwnPageScenario), "none", bound);
        var reduced = Explore(typeof(OwnPageScenario), "sleep-sets", bound);
        Assert.That(plain.Exhausted && reduced.Exhausted);
        Assert.That(plain.Failing + reduced.Failing, Is.Zero);
        Assert.That(reduced.Schedules, Is.LessThan(plain.Schedules / 2));
        TestContext.Out.WriteLine($"bound {bound}: {plain.Schedules} plain, {reduced.Schedules} with sleep sets");
    }
}
