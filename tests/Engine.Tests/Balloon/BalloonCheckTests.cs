using BalloonScript.Engine.Host;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>The balloon sanitizer: each finding on a state that has it, none on the same balloon before.</summary>
public class BalloonCheckTests
{
    private static BalloonRig InflatedRig(string design, int pages)
    {
        var rig = new BalloonRig(design);
        rig.Driver.Inflate(pages);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "a balloon nobody raced with is clean");
        return rig;
    }

    [Test]
    public void HostMismatch_GuestReleasedAPageWithoutTellingTheHost([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = InflatedRig(design, 4);
        int p = rig.Balloon.Dequeue(); // leak_balloon without tell_host
        rig.Release.Release(p);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.HostMismatch, (long)p) }));
    }

    [Test]
    public void HostMismatch_BalloonPageTheHostWasNeverTold([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = InflatedRig(design, 4);
        int p = rig.Balloon.Enqueue(); // fill_balloon before tell_host
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.HostMismatch, (long)p) }));
    }

    [Test]
    public void PageLeak_DequeuedPageWhoseLastReferenceIsNeverDropped([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = InflatedRig(design, 4);
        int p = rig.Balloon.Dequeue();
        rig.Host.Receive(VirtQueue.Deflate, [p]);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.PageLeak, (long)p) }));
    }

    [Test]
    public void IsolatedPages_v316_DequeueOfAnIsolatedPageLeavesTheCountStuck()
    {
        var rig = InflatedRig("legacy", 4);
        int p = rig.BalloonList()[1];
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "one page isolated, isolated_pages = 1");
        rig.Balloon.BalloonPageDelete(p); // what the v3.16 dequeue does to it (defect 4)
        rig.Check.Run();
        Assert.That(rig.Count(ReportKind.IsolatedPages), Is.EqualTo(1));
    }

    [Test]
    public void BalloonUnmovable_v318_ListedPageWithoutPagePrivate()
    {
        var rig = InflatedRig("redesign", 4);
        int p = rig.BalloonList()[2];
        rig.Pages.Clear(p, Engine.Mm.PG.Private);
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.BalloonUnmovable, (long)p) }));
    }

    /// <summary>
    /// A listed page compaction cannot isolate, among 63 listed pages the host holds (a chunk the check looks at in one
    /// go): found as on its own. Unmovable as each version's identity has it: legacy's mapping cleared (defect 2's
    /// stranded page), v3.18's PG_private cleared, v4.8's PG_isolated set.
    /// </summary>
    [Test]
    public void BalloonUnmovable_InAChunkOfListedPagesTheHostHolds([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design)
    {
        var rig = InflatedRig(design, 1024);
        var listed = rig.BalloonList().ToHashSet();
        int chunk = listed.Select(pfn => pfn >> 6).First(c => Enumerable.Range(c << 6, 64).All(listed.Contains));
        int p = (chunk << 6) + 37;
        switch (rig.Identity)
        {
            case Engine.Balloon.V3_16.FakeMappingIdentity: rig.Pages.Mapping[p] = 0; break;
            case Engine.Balloon.V3_18.PageBalloonIdentity: rig.Pages.Clear(p, Engine.Mm.PG.Private); break;
            default: rig.Pages.Set(p, Engine.Mm.PG.Isolated); break;
        }
        Assert.That(rig.Identity.ListedPageMovable(p), Is.False, "precondition: the page is unmovable");
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => (r.Kind, r.Pfn)), Is.EqualTo(new[] { (ReportKind.BalloonUnmovable, (long)p) }));
    }

    [Test]
    public void StandingFinding_IsReportedOnceThenAgainAfterItClears()
    {
        var rig = InflatedRig("redesign", 4);
        int p = rig.Balloon.Enqueue();
        rig.Check.Run();
        rig.Check.Run();
        Assert.That(rig.Count(ReportKind.HostMismatch), Is.EqualTo(1));
        rig.Host.Receive(VirtQueue.Inflate, [p]);
        rig.Check.Run();
        rig.Host.Receive(VirtQueue.Deflate, [p]);
        rig.Check.Run();
        Assert.That(rig.Count(ReportKind.HostMismatch), Is.EqualTo(2));
    }

    [Test]
    public void ListCorruption_ListedPageLinkedIntoAnotherListWithoutListDel()
    {
        var rig = InflatedRig("fixed", 4);
        int p = rig.BalloonList()[1];
        // What freeing a page still on the balloon list does: __free_one_page list_adds its lru elsewhere,
        // while its balloon neighbours still point at it.
        rig.Lists.Add(p, rig.Lists.NewHead());
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports.Select(r => r.Kind), Is.EqualTo(new[] { ReportKind.ListCorruption }));
        Assert.That(rig.Sanitizer.Reports[0].Message, Does.Contain("another list head"));
    }
}
