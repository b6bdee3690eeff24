using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>
/// release_pages at the end of a pagevec drain (v3.16 mm/swap.c; v4.8 and 6.1 the same for order-0 pages): the pages
/// whose last reference the batch held (a migrated page put back, compaction's every migration) come off the LRU under
/// one hold of lru_lock and are gathered with list_add, then freed after the unlock, last gathered first: so the per-cpu
/// list hands them out again in the batch's order.
/// </summary>
public class ReleasePagesTests
{
    [TestCase("legacy")]
    [TestCase("movable")]
    [TestCase("v6.1")]
    public void ReleasePages_PagesOnlyTheBatchHeld_OffTheLruUnderOneLruLock_FreedLastFirst(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(256, 2, 1, design) with { Pagevecs = true, PerCpuLists = true });
        var lru = rig.Get<Lru>();
        var alloc = rig.Get<IPageAllocator>();
        var zone = rig.Node.LargestZone;
        long lruBefore = LruPages(zone);
        const int n = 6; // fewer than a batch: nothing drains before the drain below
        var pfns = rig.RunOnCpu0(() => Enumerable.Range(0, n).Select(_ => alloc.AllocPages(0, Gfp.HighUserMovable)).ToArray());
        Assume.That(pfns.All(zone.Spans), "precondition: one zone");
        // putback_lru_page of a page whose only other reference was the isolation's: the batch's is then the last.
        rig.RunOnCpu0(() =>
        {
            foreach (int pfn in pfns) lru.PutbackLruPage(pfn);
            return 0;
        });
        Assert.That(rig.Get<Pagevecs>().LruAdd(0), Is.EqualTo(pfns), "precondition: parked, each held by the batch alone");
        Assert.That(pfns.Select(p => rig.Pages.Count[p]), Has.All.EqualTo(1));

        // The drain in a switching run (the other CPU idle), so that its preemption points are traced.
        var outcome = rig.Scheduler.Run([new SimTask(0, 0, "drain", lru.LruAddDrain), new SimTask(1, 1, "idle", () => { })],
            new RoundRobinStrategy());
        Assert.That(outcome.Deadlock, Is.Null);

        string lruLock = zone.LruLock.Name;
        Assert.That(rig.Scheduler.Trace.Count(t => t.Point == lruLock), Is.EqualTo(2),
            "lru_lock taken once for the moves onto the LRU, once for taking the freed pages off it (not once per page)");
        Assert.That(LruPages(zone), Is.EqualTo(lruBefore), "every page came off the LRU again");
        Assert.That(pfns.Select(p => rig.Pages.Count[p]), Has.All.EqualTo(0));
        Assert.That(pfns.Where(p => rig.Pages.Test(p, PG.Lru | PG.Active | PG.Unevictable)), Is.Empty);

        // Freed last first onto the head of the per-cpu list: the next allocations take them in the batch's order.
        var again = rig.RunOnCpu0(() => Enumerable.Range(0, n).Select(_ => alloc.AllocPages(0, Gfp.HighUserMovable)).ToArray());
        Assert.That(again, Is.EqualTo(pfns));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    private static long LruPages(Zone zone) =>
        Enumerable.Range(0, Zone.NrLruLists).Sum(l => zone.Stat[(int)ZoneStat.NrInactiveAnon + l]);
}
