using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// The root of each of the four defects (kernel-semantics §8), at the balloon hook where it lives: present
/// in v3.16 (legacy), absent from v3.18 (redesign) and v4.5 (fixed). The full scenarios through compaction
/// come with the compaction code.
/// </summary>
public class BalloonDefectRootTests
{
    /// <summary>A page as move_to_new_page leaves newpage for a moment: no flags, one reference, unmapped, mapping = anon_vma | 1.</summary>
    private static int NewpageWithAnonVmaMapping(BalloonRig rig)
    {
        int n = rig.AllocTarget();
        rig.Pages.Mapping[n] = rig.Mappings.NewAnonVma();
        return n;
    }

    [Test]
    public void BalloonPageMovable_v316_PageWhoseMappingIsAnAnonVma_IsKasanReport()
    {
        var rig = new BalloonRig("legacy");
        int n = NewpageWithAnonVmaMapping(rig);
        rig.Movability.Movable(n);
        Assert.That(rig.Count(ReportKind.Kasan), Is.EqualTo(1));
        var report = rig.Sanitizer.Reports[0];
        Assert.That(report.Pfn, Is.EqualTo(n));
        Assert.That(report.Message, Does.Contain("anon_vma"));
        Assert.That(report.Trace, Does.Contain("balloon_page_movable"));
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void BalloonPageMovable_v318_PageWhoseMappingIsAnAnonVma_IsFalseWithoutReport(string design)
    {
        var rig = new BalloonRig(design);
        int n = NewpageWithAnonVmaMapping(rig);
        Assert.That(rig.Movability.Movable(n), Is.False);
        Assert.That(rig.Isolation.IsolateFromScanner(n, lruLocked: true), Is.False);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [Test]
    public void MigrationBranch_v316_FalseOnLockedIsolatedBalloonPage()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        rig.PageLock.Lock(p); // __unmap_and_move locks it first
        Assert.That(rig.MigrationPath.MigrationBranch(p), Is.False);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void MigrationBranch_v318_TrueOnLockedIsolatedBalloonPage(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.IsolateIntoMigrateList(p, out _), Is.True);
        rig.PageLock.Lock(p);
        Assert.That(rig.MigrationPath.MigrationBranch(p), Is.True);
    }

    [Test]
    public void MigratedPage_v316_LosesBalloonMappingAndIsNeverIsolatedAgain_BalloonUnmovable()
    {
        var rig = new BalloonRig("legacy");
        rig.Sim.BalloonInflate(1.0 / 256);
        int p = rig.BalloonList()[0];
        Assert.That(rig.MigrateBalloonPage(p), Is.EqualTo(MigrateRc.Success));
        int newpage = rig.BalloonList()[0];
        Assert.That(newpage, Is.Not.EqualTo(p));
        Assert.That(rig.Isolation.IsolateFromScanner(newpage, lruLocked: true), Is.False);
        rig.Check.Run();
        Assert.That(rig.Count(ReportKind.BalloonUnmovable), Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports.Single().Pfn, Is.EqualTo(newpage));
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void MigratedPage_v318_StaysMovable_MigratesAgain(string design)
    {
        var rig = new BalloonRig(design);
        rig.Sim.BalloonInflate(1.0 / 256);
        int p = rig.BalloonList()[0];
        Assert.That(rig.MigrateBalloonPage(p), Is.EqualTo(MigrateRc.Success));
        int newpage = rig.BalloonList()[0];
        Assert.That(rig.MigrateBalloonPage(newpage), Is.EqualTo(MigrateRc.Success));
        rig.Check.Run();
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
        Assert.That(rig.Host.Ballooned, Is.EqualTo(1));
    }

    [Test]
    public void IsolateFromScanner_v316_WithoutLruLock_IsolatesNothing()
    {
        var rig = new BalloonRig("legacy");
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Movability.Movable(p), Is.True, "the page is a movable balloon page");
        Assert.That(rig.Isolation.IsolateFromScanner(p, lruLocked: false), Is.False);
        Assert.That(rig.Dev.IsolatedPages, Is.Zero);
        Assert.That(rig.Pages.Count[p], Is.EqualTo(1));
    }

    [TestCase("redesign"), TestCase("fixed")]
    public void IsolateFromScanner_v318_WithoutLruLock_Isolates(string design)
    {
        var rig = new BalloonRig(design);
        int p = rig.Balloon.Enqueue();
        Assert.That(rig.Isolation.IsolateFromScanner(p, lruLocked: false), Is.True);
        Assert.That(rig.Dev.IsolatedPages, Is.EqualTo(1));
    }
}
