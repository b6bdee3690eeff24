using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using MovablePageIsolation = BalloonScript.Engine.Migrate.V4_8.MovablePageIsolation;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Tests.Balloon;

/// <summary>
/// A booted simulation of one design with its internals at hand, and the compaction steps that reach the
/// balloon hooks (isolation, the real putback_movable_pages, unmap_and_move and migrate_pages).
/// </summary>
internal sealed class BalloonRig(string design, long memoryMib = 16, int cpus = 2)
    : SimRig(TestOptions.Classic(memoryMib, cpus, 1, design))
{
    public PageLock PageLock => Get<PageLock>();
    public MappingTable Mappings => Get<MappingTable>();
    public BalloonDevInfo Dev => Get<BalloonDevInfo>();
    public BalloonCompaction Balloon => Get<BalloonCompaction>();
    public BalloonPageOps BalloonOps => Get<BalloonPageOps>();
    public IBalloonPageIdentity Identity => Get<IBalloonPageIdentity>();
    public IBalloonMovability Movability => Get<IBalloonMovability>();
    public IScannerIsolation Isolation => Get<IScannerIsolation>();
    public IBalloonMigrationPath MigrationPath => Get<IBalloonMigrationPath>();
    public IDriverRelease Release => Get<IDriverRelease>();
    public VirtioBalloon Driver => Get<VirtioBalloon>();
    public BalloonHost Host => Get<BalloonHost>();
    public BalloonCheck Check => Get<BalloonCheck>();
    /// <summary>v3.16 mm/migrate.c, for tests of the v3.x designs' balloon branches.</summary>
    public Migration Migration => Get<Migration>();
    /// <summary>The design's mm/migrate.c.</summary>
    public IMigration Migrate => Get<IMigration>();

    /// <summary>The balloon list, head first.</summary>
    public List<int> BalloonList()
    {
        var l = new List<int>();
        for (int p = Lists.Next(Dev.Pages); p != Dev.Pages && l.Count <= Pages.NrPages; p = Lists.Next(p)) l.Add(p);
        return l;
    }

    /// <summary>A page as a migration target: order 0 from the buddy allocator, _count 1.</summary>
    public int AllocTarget() => Get<IBuddyAllocator>().GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkLow);

    public long Count(ReportKind kind) => Sanitizer.CountOf(kind);

    public long Isolated(ZoneStat stat) => Node.Zones.Sum(z => z.Stat[(int)stat]);

    /// <summary>
    /// The migrate scanner's isolation of one non-LRU page as the design's compaction does it, lru_lock held: v3.x the
    /// balloon branch, counted into NR_ISOLATED_FILE (acct_isolated); v4.8 isolate_movable_page, counted nowhere.
    /// </summary>
    public bool IsolateAsScanner(int pfn)
    {
        if (Provider.GetService<IScannerIsolation>() is not { } balloonBranch)
            return Get<MovablePageIsolation>().IsolateMovablePage(pfn, IsolateMode.Unevictable);
        if (!balloonBranch.IsolateFromScanner(pfn, lruLocked: true)) return false;
        Node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrIsolatedFile, 1);
        return true;
    }

    /// <summary>
    /// What compaction does with balloon pages it isolated and then gives up on: the scanner's non-LRU branch
    /// (lru_lock held) on each pfn into a private list, then the real putback_movable_pages.
    /// </summary>
    public void IsolateThenPutBack(IReadOnlyList<int> pfns)
    {
        int migratepages = Lists.NewHead();
        foreach (int pfn in pfns)
            if (IsolateAsScanner(pfn)) Lists.Add(pfn, migratepages);
        Migrate.PutbackMovablePages(migratepages);
        Lists.FreeHead(migratepages);
    }

    /// <summary>The real unmap_and_move (mm/migrate.c) on one isolated page with <paramref name="newpage"/> as the
    /// target (freed again on failure, as compaction_free would).</summary>
    public int UnmapAndMove(int page, int newpage) =>
        Migration.UnmapAndMove(_ => newpage, p => Get<IBuddyAllocator>().PutPage(p), page, force: false, MigrateMode.Async);

    /// <summary>Isolate <paramref name="page"/> as compaction does (lru_lock held) into a fresh migrate list.</summary>
    public bool IsolateIntoMigrateList(int page, out int migratepages)
    {
        migratepages = -1;
        if (!IsolateAsScanner(page)) return false;
        migratepages = Lists.NewHead();
        Lists.Add(page, migratepages);
        return true;
    }

    /// <summary>
    /// Isolate one balloon page and run the real migrate_pages on it (sync, fresh targets), then
    /// putback_movable_pages if it did not move. Success or -EAGAIN.
    /// </summary>
    public int MigrateBalloonPage(int page)
    {
        if (!IsolateIntoMigrateList(page, out int migratepages)) return MigrateRc.EAgain;
        int left = Migrate.MigratePages(migratepages, _ => AllocTarget(), p => Get<IBuddyAllocator>().PutPage(p), MigrateMode.Sync);
        if (left != 0) Migrate.PutbackMovablePages(migratepages);
        Lists.FreeHead(migratepages);
        return left == 0 ? MigrateRc.Success : MigrateRc.EAgain;
    }

    /// <summary>Run two kernel paths on CPUs 0 and 1 under a seeded random schedule.</summary>
    public RunOutcome RunRandom(long seed, Action cpu0, string name0, Action cpu1, string name1) =>
        Scheduler.Run([new SimTask(0, 0, name0, cpu0), new SimTask(1, 1, name1, cpu1)], new RandomStrategy(seed));
}
