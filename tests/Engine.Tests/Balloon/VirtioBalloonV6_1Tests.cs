using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// The v6.1 design's fill_balloon / leak_balloon / virtballoon_migratepage (6.1 drivers/virtio/virtio_balloon.c,
/// docs/kernel/v6.1.md §6.3–6.5) against the v3.16-era ones of the other designs, with nothing racing.
/// </summary>
public class VirtioBalloonV6_1Tests
{
    [Test]
    public void FillBalloon_v6_1_AllocatesTheBatchFirst_EnqueuesLastAllocatedFirst_CountsAndTellsOnce()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 32);
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);

        Assert.That(rig.Driver.FillBalloon(1000), Is.EqualTo(VirtioBalloon.MaxPfns), "num = min(num, ARRAY_SIZE(vb->pfns))");

        Assert.That(rig.Driver.NumPages, Is.EqualTo(256), "vb->num_pages += VIRTIO_BALLOON_PAGES_PER_PAGE (1 on x86) per page");
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed - 256), "adjust_managed_page_count(page, -1) without DEFLATE_ON_OOM");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonInflate), Is.EqualTo(256));
        Assert.That(rig.Host.Ballooned, Is.EqualTo(256), "one tell_host for the batch");
        var told = rig.Driver.Pfns(256).ToArray().Select(pfn => (int)pfn).ToList();
        // balloon_page_push / balloon_page_pop make the local list a stack: vb->pfns (enqueue order) is the reverse of
        // the allocation order, and the balloon list (list_add at its head) starts with the first page allocated.
        Assert.That(rig.BalloonList(), Is.EqualTo(told.AsEnumerable().Reverse()));
        Assert.That(told, Is.Ordered.Descending, "the allocator handed out ascending PFNs; they were enqueued last first");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void FillBalloon_v3_16_EnqueuesEachPageAsItIsAllocated()
    {
        var rig = new BalloonRig("fixed", memoryMib: 16); // one zone (DMA): the fair zone policy does not interleave zones
        rig.Driver.FillBalloon(256);
        var told = rig.Driver.Pfns(256).ToArray().Select(pfn => (int)pfn).ToList();
        Assert.That(rig.BalloonList(), Is.EqualTo(told.AsEnumerable().Reverse()));
        Assert.That(told, Is.Ordered.Ascending, "balloon_page_enqueue allocates: vb->pfns is the allocation order");
    }

    [Test]
    public void LeakBalloon_v6_1_ReleasePagesBalloon_PutsTheBatchUnderBalloonLock_RestoresManagedPages()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 32);
        long managed = rig.Node.Zones.Sum(z => z.ManagedPages);
        rig.Driver.FillBalloon(256);
        rig.Driver.FillBalloon(44);

        Assert.That(rig.Driver.LeakBalloon(1000), Is.EqualTo(256), "at most 256 PFNs a call");
        Assert.That(rig.Driver.LeakBalloon(1000), Is.EqualTo(44), "num = min(num, vb->num_pages)");
        Assert.That(rig.Driver.LeakBalloon(1000), Is.Zero);

        Assert.That(rig.Driver.NumPages, Is.Zero);
        Assert.That(rig.Host.Ballooned, Is.Zero);
        Assert.That(rig.Node.Zones.Sum(z => z.ManagedPages), Is.EqualTo(managed), "adjust_managed_page_count(page, 1) per page released");
        Assert.That(rig.VmStat.Event(VmEvent.BalloonDeflate), Is.EqualTo(300));
        Assert.That(rig.Driver.BalloonLock.IsLocked, Is.False);
        Assert.That(rig.Sim.PageMap().Count(k => k == (byte)PageKind.Balloon), Is.Zero, "put_page freed every page");
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    /// <summary>A balloon page isolated for migration and a target page in another zone than its own.</summary>
    private static (int page, int newpage) IsolatedPageAndTargetInAnotherZone(BalloonRig rig)
    {
        Assert.That(rig.Node.Zones.Count(z => z.ManagedPages > 0), Is.GreaterThan(1), "a guest with two zones");
        rig.Driver.FillBalloon(1);
        int page = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(page, out _), Is.True);
        var zone = rig.Node.ZoneOf(page);
        int newpage;
        while (rig.Node.ZoneOf(newpage = rig.AllocTarget()) == zone) Assert.That(newpage, Is.GreaterThanOrEqualTo(0), "a page of another zone is free");
        return (page, newpage);
    }

    [Test]
    public void VirtballoonMigratepage_v6_1_ToAnotherZone_MovesTheManagedPageBetweenTheZones()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 64);
        var (page, newpage) = IsolatedPageAndTargetInAnotherZone(rig);
        Zone from = rig.Node.ZoneOf(page), to = rig.Node.ZoneOf(newpage);
        long fromManaged = from.ManagedPages, toManaged = to.ManagedPages;

        Assert.That(rig.Driver.Migratepage(newpage, page, MigrateMode.Sync), Is.EqualTo(MigrateRc.Success));

        Assert.That(from.ManagedPages, Is.EqualTo(fromManaged + 1), $"adjust_managed_page_count(page, 1) in {from.Name}");
        Assert.That(to.ManagedPages, Is.EqualTo(toManaged - 1), $"adjust_managed_page_count(newpage, -1) in {to.Name}");
        Assert.That(rig.Host.IsBallooned(newpage) && !rig.Host.IsBallooned(page), Is.True);
        Assert.That(rig.VmStat.Event(VmEvent.BalloonMigrate), Is.EqualTo(1));
    }

    [Test]
    public void VirtballoonMigratepage_v4_5_ToAnotherZone_LeavesManagedPagesAlone()
    {
        var rig = new BalloonRig("fixed", memoryMib: 64);
        var (page, newpage) = IsolatedPageAndTargetInAnotherZone(rig);
        long[] managed = [.. rig.Node.Zones.Select(z => z.ManagedPages)];

        Assert.That(rig.Driver.Migratepage(newpage, page, MigrateMode.Sync), Is.EqualTo(MigrateRc.Success));

        Assert.That(rig.Node.Zones.Select(z => z.ManagedPages), Is.EqualTo(managed), "before the late-2019 fix the page stays counted in the old zone");
    }

    [Test]
    public void VirtballoonMigratepage_v6_1_WithinOneZone_LeavesManagedPagesAlone()
    {
        var rig = new BalloonRig("v6.1", memoryMib: 64);
        rig.Driver.FillBalloon(1);
        int page = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(page, out _), Is.True);
        int newpage = rig.AllocTarget();
        Assume.That(rig.Node.ZoneOf(newpage), Is.SameAs(rig.Node.ZoneOf(page)));
        long[] managed = [.. rig.Node.Zones.Select(z => z.ManagedPages)];

        Assert.That(rig.Driver.Migratepage(newpage, page, MigrateMode.Sync), Is.EqualTo(MigrateRc.Success));

        Assert.That(rig.Node.Zones.Select(z => z.ManagedPages), Is.EqualTo(managed));
    }

    /// <summary>
    /// virtballoon_migratepage's second step: 6.1 takes the old page out of the balloon under <c>pages_lock</c>, v4.8 and
    /// before without it. Another CPU holding pages_lock right after the first tell_host makes the 6.1 migration wait
    /// there; the v4.5 one goes on.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("fixed", false)]
    [TestCase("movable", false)]
    public void VirtballoonMigratepage_DeletesTheOldPageUnderPagesLock_In6_1Only(string design, bool waits)
    {
        var rig = new BalloonRig(design, memoryMib: 64);
        rig.Driver.FillBalloon(1);
        int page = rig.BalloonList()[0];
        Assert.That(rig.IsolateIntoMigrateList(page, out _), Is.True);
        int newpage = rig.AllocTarget();
        var scheduler = rig.Get<Scheduler>();
        var pagesLock = rig.Get<BalloonDevInfo>().PagesLock;
        int rc = int.MinValue;
        var tasks = new[]
        {
            new SimTask(0, 0, "migrate", () => rc = rig.Driver.Migratepage(newpage, page, MigrateMode.Sync)),
            new SimTask(1, 1, "holder", () =>
            {
                pagesLock.Lock();
                scheduler.Preempt("holding pages_lock");
                pagesLock.Unlock();
            }),
        };
        rig.Sim.RunKernelPaths("race", tasks, new HolderAfterTheFirstTellHost(scheduler));

        Assert.That(rc, Is.EqualTo(MigrateRc.Success));
        bool waited = scheduler.Trace.Any(t => t.Task == "migrate" && t.Point == "blocked: " + pagesLock.Name);
        Assert.That(waited, Is.EqualTo(waits));
        Assert.That(rig.Host.IsBallooned(newpage) && !rig.Host.IsBallooned(page), Is.True);
    }

    /// <summary>
    /// balloon_page_enqueue's two locks: 6.1 (5.2+: balloon_page_enqueue_one under pages_lock) unlocks the new balloon page
    /// before it releases pages_lock, v4.8 and before release pages_lock first. Another CPU's trylock_page right after
    /// pages_lock is released (as isolate_movable_page would try it) finds the 6.1 page unlocked, the v4.8 one still locked.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("movable", false)]
    public void BalloonPageEnqueue_UnlocksThePageBeforePagesLock_From5_2(string design, bool unlockedFirst)
    {
        var rig = new BalloonRig(design, memoryMib: 32);
        var scheduler = rig.Get<Scheduler>();
        string unlockPoint = rig.Dev.PagesLock.Name + " unlock";
        int page = design == "v6.1" ? rig.AllocTarget() : -1;
        bool? tookPageLock = null;
        var tasks = new[]
        {
            new SimTask(0, 0, "enqueue", () =>
            {
                if (page >= 0) rig.Balloon.Enqueue(page);
                else rig.Balloon.Enqueue();
            }),
            new SimTask(1, 1, "observer", () =>
            {
                int listed = rig.BalloonList()[0];
                tookPageLock = rig.PageLock.TryLock(listed);
                if (tookPageLock == true) rig.PageLock.Unlock(listed);
            }),
        };
        rig.Sim.RunKernelPaths("race", tasks, new SwitchAfterPoint(scheduler, unlockPoint));

        Assert.That(tookPageLock, Is.EqualTo(unlockedFirst));
        Assert.That(rig.BalloonList(), Has.Count.EqualTo(1));
        Assert.That(rig.Pages.PageLocked(rig.BalloonList()[0]), Is.False, "the page ends unlocked either way");
    }

    /// <summary>The migration until its first tell_host, then the holder until it holds pages_lock, then the migration.</summary>
    private sealed class HolderAfterTheFirstTellHost(Scheduler scheduler) : IScheduleStrategy
    {
        private bool _told;

        public void Start(IReadOnlyList<SimTask> tasks) { }

        public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
        {
            var trace = scheduler.Trace;
            var last = trace.Count > 0 ? trace[^1] : default;
            int want = current.Id;
            if (!_told && last.Task == "migrate" && last.Point.StartsWith("tell_host", StringComparison.Ordinal)) (_told, want) = (true, 1);
            else if (last.Task == "holder" && last.Point == "holding pages_lock") want = 0;
            return runnable.FirstOrDefault(t => t.Id == want) ?? runnable[0];
        }
    }
}
