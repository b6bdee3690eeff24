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
internal sealed partial class ScenarioKit(Simulation sim, PageTable pages, PageLists lists, Node node, IBuddyAllocator buddy,
    Lru lru, IMigration migration, ICompaction compaction, Workload.Workload workload, Workload.HighOrderRequests highOrder,
    IVirtioBalloon driver, IReclaim reclaim, PageAlloc.V6_1.PageReporting? reporting = null)
{
    public Simulation Sim => sim;
    public PageTable Pages => pages;
    public Node Node => node;
    public ICompaction Compaction => compaction;
    public Workload.Workload Workload => workload;
    public Workload.HighOrderRequests HighOrder => highOrder;
    public IVirtioBalloon Driver => driver;
    public IReclaim Reclaim => reclaim;
    /// <summary>Free page reporting, where the simulation was built with it (v6.1, <c>free_page_reporting</c>).</summary>
    public PageAlloc.V6_1.PageReporting? Reporting => reporting;

    /// <summary>MiB a workload populate can take now, and MiB the balloon can take now.</summary>
    public double AllocatableMib => workload.AllocatablePages() / 256.0;
    public double InflatableMib => driver.InflatablePages() / 256.0;

    /// <summary>fill_balloon calls for <paramref name="pages"/> pages, one per 256 (vb-&gt;pfns holds 256 PFNs), as the balloon thread makes them.</summary>
    [Preemptible]
    public void FillBalloonCalls(long pages)
    {
        for (long left = pages; left > 0; left -= VirtioBalloon.MaxPfns) driver.FillBalloon(Math.Min(left, VirtioBalloon.MaxPfns));
    }

    /// <summary>leak_balloon calls for <paramref name="pages"/> pages, one per 256, each (as towards_target asks) for no more
    /// than the balloon has when it starts.</summary>
    [Preemptible]
    public void LeakBalloonCalls(long pages)
    {
        for (long left = pages; left > 0; left -= VirtioBalloon.MaxPfns) driver.LeakBalloon(Math.Min(Math.Min(left, VirtioBalloon.MaxPfns), driver.NumPages));
    }

    /// <summary>Faults of <paramref name="pages"/> pages of <paramref name="kind"/> (anon, file, slab); no more than the
    /// allocator can give when they start (another CPU may have taken memory).</summary>
    [Preemptible]
    public void Fault(string kind, long pages)
    {
        double mib = Math.Min(pages, workload.AllocatablePages()) / 256.0;
        if (kind == "anon") workload.Anon(mib);
        else if (kind == "file") workload.File(mib);
        else workload.Slab(mib);
    }

    /// <summary>The migrate scanner over [<paramref name="low"/>, <paramref name="high"/>), then migrate_pages of what it isolated to targets from the free lists.</summary>
    [Preemptible]
    public void IsolateAndMigrate(int low, int high, MigrateMode mode) => MigrateAndRelease(Isolate(low, high, mode), _ => Target());

    /// <summary>The migrate scanner over [<paramref name="low"/>, <paramref name="high"/>), then putback_movable_pages of what it isolated.</summary>
    [Preemptible]
    public void IsolateAndPutback(int low, int high, MigrateMode mode) => PutbackAndRelease(Isolate(low, high, mode));

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
    [Preemptible]
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
    [Preemptible]
    public CompactControl Isolate(int low, int end, MigrateMode mode)
    {
        var zone = node.ZoneOf(low);
        var cc = compaction.NewControl(zone, Zone.PageblockOrder, zone.Types.Movable, mode, ignoreSkipHint: true);
        compaction.IsolateMigratepagesRange(cc, low, end);
        return cc;
    }

    /// <summary>migrate_pages on <paramref name="list"/> with targets from <paramref name="target"/> (unused ones
    /// freed, as compaction_free would return them), then putback_movable_pages of whatever is left.</summary>
    [Preemptible]
    public void Migrate(int list, [Preemptible] Func<int, int> target, MigrateMode mode)
    {
        if (migration.MigratePages(list, target, p => buddy.PutPage(p), mode) != 0)
            migration.PutbackMovablePages(list);
    }

    /// <summary>
    /// migrate_pages on <paramref name="list"/> towards the one <paramref name="target"/> taken before the race, kept as
    /// compaction keeps its free pages: handed out by get_new_page, given back by put_new_page after a failed attempt (a
    /// retry gets it again), none once it is in use (-ENOMEM), freed at the end if no attempt kept it.
    /// </summary>
    [Preemptible]
    public void MigrateTo(int list, int target, MigrateMode mode)
    {
        bool held = true;
        int rc = migration.MigratePages(list, _ =>
        {
            if (!held) return -1;
            held = false;
            return target;
        }, _ => held = true, mode);
        if (rc != 0) migration.PutbackMovablePages(list);
        if (held) buddy.PutPage(target);
    }

    /// <summary><see cref="Migrate"/> what <paramref name="cc"/> isolated, then release the control.</summary>
    [Preemptible]
    public void MigrateAndRelease(CompactControl cc, [Preemptible] Func<int, int> target)
    {
        Migrate(cc.MigratePages, target, cc.Mode);
        compaction.Release(cc);
    }

    /// <summary>putback_movable_pages of everything <paramref name="cc"/> isolated (compaction gave up); releases it.</summary>
    [Preemptible]
    public void PutbackAndRelease(CompactControl cc)
    {
        migration.PutbackMovablePages(cc.MigratePages);
        compaction.Release(cc);
    }

    /// <summary>compact_zone over the whole zone (order -1) in <paramref name="mode"/>, honouring skip bits (as every
    /// compaction but a manual one does), as one compact_control.</summary>
    [Preemptible]
    public CompactStatus CompactZone(Zone zone, MigrateMode mode)
    {
        var cc = compaction.NewControl(zone, -1, zone.Types.Movable, mode, ignoreSkipHint: false);
        var status = compaction.CompactZone(cc);
        compaction.Release(cc);
        return status;
    }
}
