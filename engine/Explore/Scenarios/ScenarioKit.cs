using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// What the scenarios build their races from: placing pages at known PFNs, and the compaction steps that
/// touch balloon pages (the real migrate scanner, migrate_pages and putback_movable_pages) on a private
/// compact_control, as a direct-compaction or kcompactd-less kernel would run them.
/// </summary>
internal sealed class ScenarioKit(Simulation sim, PageTable pages, PageLists lists, Node node, IBuddyAllocator buddy,
    Lru lru, IMigration migration, ICompaction compaction, Workload.Workload workload, Workload.HighOrderRequests highOrder,
    IVirtioBalloon driver, IReclaim reclaim)
{
    public Simulation Sim => sim;
    public PageTable Pages => pages;
    public Node Node => node;
    public ICompaction Compaction => compaction;
    public Workload.Workload Workload => workload;
    public Workload.HighOrderRequests HighOrder => highOrder;
    public IVirtioBalloon Driver => driver;
    public IReclaim Reclaim => reclaim;

    /// <summary>MiB a workload populate can take now, and MiB the balloon can take now.</summary>
    public double AllocatableMib => workload.AllocatablePages() / 256.0;
    public double InflatableMib => driver.InflatablePages() / 256.0;

    /// <summary>One leak_balloon call of the vballoon thread (at most 256 pages).</summary>
    public void LeakBalloon(int pages) => driver.LeakBalloon(pages);

    /// <summary>Run <paramref name="populate"/> and return the PFNs that became <paramref name="kind"/>, ascending.</summary>
    public int[] NewPages(Action populate, PageKind kind)
    {
        var before = pages.Kind.ToArray();
        populate();
        var added = new List<int>();
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
            if (pages.Kind[pfn] == (byte)kind && before[pfn] != (byte)kind) added.Add(pfn);
        return [.. added];
    }

    /// <summary>One anon page (a process faulting in one page).</summary>
    public int AnonPage() => NewPages(() => sim.WorkloadAnon(1 / 256.0), PageKind.Anon).Single();

    /// <summary>Inflate the balloon by <paramref name="n"/> pages; their PFNs, ascending.</summary>
    public int[] BalloonPages(int n) => NewPages(() => sim.BalloonInflate(n / 256.0), PageKind.Balloon);

    /// <summary>A migration target as compaction_alloc hands it out: an order-0 page with _count 1, no flags, no mapping.</summary>
    public int Target() => buddy.GetPageFromFreelist(0, Gfp.HighUserMovable, AllocFlags.WmarkMin);

    /// <summary>Give back a target that was not used.</summary>
    public void FreeTarget(int pfn) => buddy.PutPage(pfn);

    /// <summary>isolate_lru_page onto <paramref name="list"/> with NR_ISOLATED_* raised (what migrate_pages' callers do).</summary>
    public void IsolateLru(int pfn, int list)
    {
        if (lru.IsolateLruPage(pfn) != 0) throw new InvalidOperationException($"pfn {pfn} is not on an LRU list");
        lists.Add(pfn, list);
        node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrIsolatedAnon + (lru.PageIsFileCache(pfn) ? 1 : 0), 1);
    }

    public int NewList() => lists.NewHead();

    public void FreeList(int head) => lists.FreeHead(head);

    /// <summary>
    /// The migrate scanner (isolate_migratepages_range) over [<paramref name="low"/>, <paramref name="end"/>) on a
    /// fresh compact_control for a THP-sized request; the caller migrates or puts back and then releases it.
    /// </summary>
    public CompactControl Isolate(int low, int end, MigrateMode mode)
    {
        var zone = node.ZoneOf(low);
        var cc = compaction.NewControl(zone, Zone.PageblockOrder, zone.Types.Movable, mode, ignoreSkipHint: true);
        compaction.IsolateMigratepagesRange(cc, low, end);
        return cc;
    }

    /// <summary>migrate_pages on <paramref name="list"/> with targets from <paramref name="target"/> (unused ones
    /// freed, as compaction_free would return them), then putback_movable_pages of whatever is left.</summary>
    public void Migrate(int list, Func<int, int> target, MigrateMode mode)
    {
        if (migration.MigratePages(list, target, p => buddy.PutPage(p), mode) != 0)
            migration.PutbackMovablePages(list);
    }

    /// <summary>
    /// migrate_pages on <paramref name="list"/> towards the one <paramref name="target"/> taken before the race, kept as
    /// compaction keeps its free pages: handed out by get_new_page, given back by put_new_page after a failed attempt (a
    /// retry gets it again), none once it is in use (-ENOMEM), freed at the end if no attempt kept it.
    /// </summary>
    public void MigrateTo(int list, int target, MigrateMode mode)
    {
        bool held = true;
        int Get(int _)
        {
            if (!held) return -1;
            held = false;
            return target;
        }
        if (migration.MigratePages(list, Get, _ => held = true, mode) != 0) migration.PutbackMovablePages(list);
        if (held) buddy.PutPage(target);
    }

    /// <summary><see cref="Migrate"/> what <paramref name="cc"/> isolated, then release the control.</summary>
    public void MigrateAndRelease(CompactControl cc, Func<int, int> target)
    {
        Migrate(cc.MigratePages, target, cc.Mode);
        compaction.Release(cc);
    }

    /// <summary>putback_movable_pages of everything <paramref name="cc"/> isolated (compaction gave up); releases it.</summary>
    public void PutbackAndRelease(CompactControl cc)
    {
        migration.PutbackMovablePages(cc.MigratePages);
        compaction.Release(cc);
    }

    /// <summary>compact_zone over the whole zone (order -1) in <paramref name="mode"/>, honouring skip bits (as every
    /// compaction but a manual one does), as one compact_control.</summary>
    public CompactStatus CompactZone(Zone zone, MigrateMode mode)
    {
        var cc = compaction.NewControl(zone, -1, zone.Types.Movable, mode, ignoreSkipHint: false);
        var status = compaction.CompactZone(cc);
        compaction.Release(cc);
        return status;
    }
}
