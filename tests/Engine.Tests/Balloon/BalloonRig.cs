using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// A booted simulation of one design with its internals at hand, plus stand-ins for the two compaction
/// paths that call the balloon hooks (the real scanner and migrate_pages live in the compaction code):
/// <see cref="IsolateThenPutBack"/> and <see cref="UnmapAndMove"/>.
/// </summary>
internal sealed class BalloonRig
{
    public BalloonRig(string design, long memoryMib = 16, int cpus = 2)
    {
        var options = new SimulationOptions { MemoryMib = memoryMib, Design = design, Cpus = cpus, Seed = 1 };
        var sp = new ServiceCollection().AddBalloonScript(options).BuildServiceProvider();
        Sim = sp.GetRequiredService<Simulation>(); // boots memory
        Pages = sp.GetRequiredService<PageTable>();
        Lists = sp.GetRequiredService<PageLists>();
        PageLock = sp.GetRequiredService<PageLock>();
        Mappings = sp.GetRequiredService<MappingTable>();
        Node = sp.GetRequiredService<Node>();
        Buddy = sp.GetRequiredService<BuddyAllocator>();
        VmStat = sp.GetRequiredService<VmStat>();
        Sanitizer = sp.GetRequiredService<Sanitizer>();
        Scheduler = sp.GetRequiredService<Scheduler>();
        Dev = sp.GetRequiredService<BalloonDevInfo>();
        Balloon = sp.GetRequiredService<BalloonCompaction>();
        Driver = sp.GetRequiredService<VirtioBalloon>();
        Host = sp.GetRequiredService<BalloonHost>();
        Check = sp.GetRequiredService<BalloonCheck>();
    }

    public Simulation Sim { get; }
    public PageTable Pages { get; }
    public PageLists Lists { get; }
    public PageLock PageLock { get; }
    public MappingTable Mappings { get; }
    public Node Node { get; }
    public BuddyAllocator Buddy { get; }
    public VmStat VmStat { get; }
    public Sanitizer Sanitizer { get; }
    public Scheduler Scheduler { get; }
    public BalloonDevInfo Dev { get; }
    public BalloonCompaction Balloon { get; }
    public VirtioBalloon Driver { get; }
    public BalloonHost Host { get; }
    public BalloonCheck Check { get; }

    /// <summary>The balloon list, head first.</summary>
    public List<int> BalloonList()
    {
        var l = new List<int>();
        for (int p = Lists.Next(Dev.Pages); p != Dev.Pages && l.Count <= Pages.NrPages; p = Lists.Next(p)) l.Add(p);
        return l;
    }

    /// <summary>A page as a migration target: order 0 from the buddy allocator, _count 1.</summary>
    public int AllocTarget() => Buddy.GetPageFromFreelist(0, Gfp.HighUserMovable, BuddyAllocator.AllocWmarkLow);

    public int Count(ReportKind kind) => Sanitizer.CountOf(kind);

    public long Isolated(ZoneStat stat) => Node.Zones.Sum(z => z.Stat[(int)stat]);

    /// <summary>
    /// Compaction stand-in: isolate_migratepages_range's non-LRU branch on each pfn with lru_lock held
    /// (v3.16 compaction takes a page into its private list after a successful isolation), then
    /// putback_movable_pages: list_del each entry (next saved first), balloon_page_putback for an isolated
    /// balloon page, otherwise drop the isolation reference (putback_lru_page of a page whose owner let go).
    /// </summary>
    public void IsolateThenPutBack(IReadOnlyList<int> pfns)
    {
        int migratepages = Lists.NewHead();
        foreach (int pfn in pfns)
            if (Balloon.IsolateFromScanner(pfn, lruLocked: true)) Lists.Add(pfn, migratepages);
        int page = Lists.Next(migratepages);
        for (int steps = 0; page != migratepages && !PageLists.IsPoison(page) && steps <= pfns.Count; steps++)
        {
            int next = Lists.Next(page);
            Lists.Del(page);
            if (Balloon.IsolatedBalloonPage(page)) Balloon.Putback(page);
            else Buddy.PutPage(page);
            page = next;
        }
        Lists.FreeHead(migratepages);
    }

    /// <summary>
    /// unmap_and_move stand-in for one isolated balloon page (v3.16 / v3.18 mm/migrate.c around the hooks):
    /// lock the page; the balloon branch (balloon_page_migrate) or move_to_new_page's generic path
    /// (newpage-&gt;mapping = page-&gt;mapping, a_ops-&gt;migratepage, mapping cleared again on rc ≠ 0); then the
    /// BALLOON_SUCCESS early return, or list_del + NR_ISOLATED + putback_lru_page(page), and newpage
    /// put_page'd (PageBalloon) or freed (failure). <paramref name="page"/> must be on a migrate list.
    /// </summary>
    public int UnmapAndMove(int page, int newpage)
    {
        PageLock.Lock(page);
        int rc;
        if (Balloon.MigrationBranch(page))
        {
            rc = Balloon.BalloonPageMigrate(newpage, page, MigrateMode.Async);
        }
        else
        {
            PageLock.TryLock(newpage);
            Pages.Mapping[newpage] = Pages.Mapping[page];
            rc = Balloon.MappingMigratePage(Pages.Mapping[page], newpage, page, MigrateMode.Async);
            if (rc != MigrateRc.Success) Pages.Mapping[newpage] = 0;
            PageLock.Unlock(newpage);
        }
        PageLock.Unlock(page);
        if (Balloon.HandleBalloonSuccess(rc, page)) return MigrateRc.Success;
        if (rc != MigrateRc.EAgain)
        {
            Lists.Del(page);
            Node.ZoneOf(page).Stat[(int)ZoneStat.NrIsolatedFile]--;
            Buddy.PutPage(page);
        }
        if (rc == MigrateRc.Success && Balloon.IsMovableBalloonPage(newpage)) Buddy.PutPage(newpage);
        else if (rc != MigrateRc.Success) Buddy.PutPage(newpage);
        return rc;
    }

    /// <summary>Isolate <paramref name="page"/> as compaction does (lru_lock held) into a fresh migrate list, with acct_isolated.</summary>
    public bool IsolateIntoMigrateList(int page, out int migratepages)
    {
        migratepages = -1;
        if (!Balloon.IsolateFromScanner(page, lruLocked: true)) return false;
        migratepages = Lists.NewHead();
        Lists.Add(page, migratepages);
        Node.ZoneOf(page).Stat[(int)ZoneStat.NrIsolatedFile]++;
        return true;
    }

    /// <summary>
    /// migrate_pages stand-in for one balloon page: isolate it, up to 10 passes of <see cref="UnmapAndMove"/>
    /// with a fresh target each, then putback_movable_pages if it is still on the list. Returns the last rc.
    /// </summary>
    public int MigrateBalloonPage(int page)
    {
        if (!IsolateIntoMigrateList(page, out int migratepages)) return MigrateRc.EAgain;
        int rc = MigrateRc.EAgain;
        for (int pass = 0; pass < 10 && rc == MigrateRc.EAgain; pass++) rc = UnmapAndMove(page, AllocTarget());
        if (rc == MigrateRc.EAgain)
        {
            Lists.Del(page);
            Node.ZoneOf(page).Stat[(int)ZoneStat.NrIsolatedFile]--;
            Balloon.Putback(page);
        }
        Lists.FreeHead(migratepages);
        return rc;
    }

    /// <summary>Run two kernel paths on CPUs 0 and 1 under a seeded random schedule.</summary>
    public RunOutcome RunRandom(long seed, Action cpu0, string name0, Action cpu1, string name1) =>
        Scheduler.Run([new SimTask(0, 0, name0, cpu0), new SimTask(1, 1, name1, cpu1)], new RandomStrategy(seed));
}
