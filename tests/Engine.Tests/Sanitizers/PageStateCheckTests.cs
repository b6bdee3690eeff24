using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sanitizers;

/// <summary>PageStateCheck: the whole-memory invariants (kernel-semantics §10.1) hold on a healthy simulation
/// and each broken one is reported with its kind.</summary>
public class PageStateCheckTests
{
    private static Harness Populated()
    {
        var h = new Harness(64);
        h.Sim.WorkloadAnon(8);
        h.Sim.WorkloadFile(4);
        h.Sim.WorkloadSlab(2);
        h.Sim.WorkloadFree(0.5, "random", 3);
        return h;
    }

    [Test]
    public void PageStateCheck_FindsNothingOnAHealthySimulation()
    {
        var h = Populated();
        h.Sim.CheckInvariants();

        Assert.That(h.Sim.Reports, Is.Empty);
        Assert.That(h.Sim.HistoryOps, Has.Count.EqualTo(5), "the check also ran after each of the four operations");
    }

    [Test]
    public void PageStateCheck_ReportsNrFreeThatDisagreesWithTheLists()
    {
        var h = Populated();
        h.Zone("DMA32").NrFree.Add(3, 1);

        h.Sim.CheckInvariants();

        var reports = h.ReportsOf(ReportKind.Accounting);
        Assert.That(reports, Has.Some.Matches<SanitizerReport>(r => r.Message.Contains("zone DMA32: nr_free[3]")));
        Assert.That(reports, Has.Some.Matches<SanitizerReport>(r => r.Message.Contains("NR_FREE_PAGES")));
    }

    [Test]
    public void PageStateCheck_ReportsADuplicatedContentToken()
    {
        var h = Populated();
        int[] withData = Enumerable.Range(0, h.Pages.NrPages).Where(p => h.Pages.Content[p] != 0).Take(2).ToArray();
        h.Pages.Content[withData[1]] = h.Pages.Content[withData[0]];

        h.Sim.CheckInvariants();

        var report = h.ReportsOf(ReportKind.DataCorruption).Single();
        Assert.That(report.Pfn, Is.EqualTo(withData[1]));
        Assert.That(report.Message, Does.Contain($"is on pfn {withData[0]} and pfn {withData[1]}: data duplicated"));
    }

    [Test]
    public void PageStateCheck_ReportsAPageInNoState()
    {
        var h = Populated();
        int inUse = Enumerable.Range(0, h.Pages.NrPages).First(p => h.Pages.Content[p] != 0);
        h.Pages.Count[inUse] = 0; // neither referenced nor in a free block: lost

        h.Sim.CheckInvariants();

        Assert.That(h.ReportsOf(ReportKind.Accounting).Single().Message, Does.Contain($"pfn {inUse} is in no state"));
    }

    [Test]
    public void PageStateCheck_ReportsEachBusyPageInsideAFreeBlock_InPfnOrder()
    {
        var h = Populated();
        int block = Enumerable.Range(0, h.Pages.NrPages).First(p => h.Pages.PageBuddy(p) && h.Pages.PageOrder(p) >= 3);
        int order = h.Pages.PageOrder(block);
        h.Pages.MapCount[block + 2] = PageTable.PageBuddyMapcountValue; // a second buddy head inside the block
        h.Pages.Count[block + (1 << order) - 1] = 1;                     // its last page referenced

        h.Sim.CheckInvariants();

        var messages = h.ReportsOf(ReportKind.Accounting).Select(r => r.Message).Where(m => m.Contains("lies inside")).ToArray();
        Assert.That(messages, Is.EqualTo(new[]
        {
            $"pfn {block + 2} lies inside the free order-{order} block at pfn {block} but is a buddy head itself",
            $"pfn {block + (1 << order) - 1} lies inside the free order-{order} block at pfn {block} but is referenced (_count 1)",
        }));
    }
}
