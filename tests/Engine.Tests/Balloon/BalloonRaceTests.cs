using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// Races between the balloon driver and compaction on two CPUs, over many seeded random schedules.
/// Defect 4 (kernel-semantics §8.4): leak_balloon's dequeue against isolation and putback. Its residual
/// next-cursor race (v3.18, fixed in v4.5). And f68b992 (v4.5): leak_balloon releasing vb-&gt;pfns after
/// dropping balloon_lock, against virtballoon_migratepage.
/// </summary>
public class BalloonRaceTests
{
    private const int Seeds = 200;

    /// <summary>
    /// How many seeds produced each report kind, when leak_balloon(4) runs on CPU 0 of an 8-page balloon and
    /// <paramref name="compaction"/> (given the balloon list, head first) on CPU 1; checks run afterwards.
    /// </summary>
    private static Dictionary<ReportKind, int> SeedsWithFindings(string design, Func<BalloonRig, int[], Action> compaction)
    {
        var seedsWith = new Dictionary<ReportKind, int>();
        for (int seed = 0; seed < Seeds; seed++)
        {
            var rig = new BalloonRig(design);
            rig.Driver.Inflate(8);
            var outcome = rig.RunRandom(seed, () => rig.Driver.LeakBalloon(4), "leak_balloon",
                compaction(rig, [.. rig.BalloonList()]), "compaction");
            Assert.That(outcome.Completed, Is.True, outcome.Deadlock);
            rig.Check.Run();
            foreach (var kind in rig.Sanitizer.Reports.Select(r => r.Kind).Distinct())
                seedsWith[kind] = seedsWith.GetValueOrDefault(kind) + 1;
        }
        TestContext.Out.WriteLine(string.Join(", ", seedsWith.Select(kv => $"{ReportKinds.Name(kv.Key)}: {kv.Value}/{Seeds} seeds")));
        return seedsWith;
    }

    /// <summary>Compaction isolates the balloon pages in the order leak_balloon walks them, then puts them all back.</summary>
    private static Dictionary<ReportKind, int> DeflateVsIsolate(string design) =>
        SeedsWithFindings(design, (rig, listed) => () => rig.IsolateThenPutBack(listed));

    /// <summary>Compaction migrates the tail page of the balloon list (leak_balloon dequeues from the head).</summary>
    private static Dictionary<ReportKind, int> LeakVsMigrate(string design) =>
        SeedsWithFindings(design, (rig, listed) => () => rig.MigrateBalloonPage(listed[^1]));

    [Test]
    public void BalloonPageDequeue_v316_TakesIsolatedPages_ListCorruptionLeakAndStuckIsolatedPages()
    {
        var seedsWith = DeflateVsIsolate("legacy");
        Assert.That(seedsWith.GetValueOrDefault(ReportKind.ListCorruption), Is.Positive);
        Assert.That(seedsWith.GetValueOrDefault(ReportKind.PageLeak), Is.Positive);
        Assert.That(seedsWith.GetValueOrDefault(ReportKind.IsolatedPages), Is.Positive);
    }

    [Test]
    public void BalloonPageDequeue_v318_SkipsIsolatedPages_OnlyTheNextCursorRaceRemains()
    {
        var seedsWith = DeflateVsIsolate("redesign");
        Assert.That(seedsWith.Keys, Is.EquivalentTo(new[] { ReportKind.ListCorruption }));
    }

    [Test]
    public void BalloonPageDequeue_v45_WalkUnderPagesLock_NoFindingOnAnySeed()
    {
        var seedsWith = DeflateVsIsolate("fixed");
        Assert.That(seedsWith, Is.Empty);
    }

    [Test]
    public void LeakBalloon_v318_ReleaseAfterBalloonLock_MigratepageRewritesPfns_WrongPageReleased()
    {
        var seedsWith = LeakVsMigrate("redesign");
        Assert.That(seedsWith.GetValueOrDefault(ReportKind.PageLeak), Is.Positive);
        Assert.That(seedsWith.GetValueOrDefault(ReportKind.BadPage), Is.Positive);
    }

    [Test]
    public void LeakBalloon_v45_ReleaseUnderBalloonLock_NoFindingOnAnySeed()
    {
        var seedsWith = LeakVsMigrate("fixed");
        Assert.That(seedsWith, Is.Empty);
    }

    /// <summary>
    /// leak_balloon(4) runs until it drops balloon_lock; then a whole migration of the balloon's tail page
    /// runs (virtballoon_migratepage sets vb-&gt;num_pfns = 1); then leak_balloon calls
    /// release_pages_by_pfn(vb-&gt;pfns, vb-&gt;num_pfns) (v3.16, v3.18). It reads both the PFN and the count
    /// after the unlock: it releases one page, the migrated one, already freed (put_page at _count 0), and the four it
    /// dequeued leak. From v4.5 the release happens before the unlock and nothing is found.
    /// </summary>
    [TestCase("legacy", 4)]
    [TestCase("redesign", 4)]
    [TestCase("fixed", 0)]
    public void LeakBalloon_MigratepageAfterUnlock_ReleaseReadsNumPfnsAfterTheUnlock(string design, int leaked)
    {
        var rig = new BalloonRig(design);
        rig.Driver.Inflate(8);
        int tail = rig.BalloonList()[^1];
        var outcome = rig.Scheduler.Run([
                new SimTask(0, 0, "leak_balloon", () => rig.Driver.LeakBalloon(4)),
                new SimTask(1, 1, "migrate", () => rig.MigrateBalloonPage(tail)),
            ], new SwitchAfterPoint(rig.Scheduler, "vb->balloon_lock unlock"));
        Assert.That(outcome.Completed, Is.True, outcome.Deadlock);
        rig.Check.Run();
        Assert.That(rig.Count(ReportKind.PageLeak), Is.EqualTo(leaked));
        var putOnFreedTail = rig.Sanitizer.Reports.Where(r => r.Kind == ReportKind.VmBug && r.Pfn == tail);
        Assert.That(putOnFreedTail, leaked > 0 ? Is.Not.Empty : Is.Empty);
    }
}
