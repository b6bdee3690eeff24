using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using Deferral = BalloonScript.Engine.Compaction.V3_16.Deferral;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// Memory compaction, 6.1 mm/compaction.c (docs/kernel/v6.1.md §3): <c>compact_zone</c> with the fast migrate and free
/// scanners, <c>compaction_suitable</c> on boosted min/low marks (the fragmentation index only for costly orders),
/// <c>__compact_finished</c> without a watermark test and always finishing the current pageblock, direct compaction by
/// priority with compaction capture (<c>try_to_compact_pages</c>, <c>compact_zone_order</c>), <c>compact_node</c>, and
/// the work of <see cref="Kcompactd"/>. Deferral is v3.16's, unchanged (<see cref="Deferral"/>). Through
/// <see cref="ICompaction"/> (sim.compact(), the race scenarios, kcompactd) results are mapped to v3.16's four values.
/// </summary>
[KernelPart("compaction", PartVersion.V6_1)]
internal sealed partial class Compactor(Node node, PageLists lists, Scheduler scheduler, FatalSignal signal, SimClock clock, VmStat vmstat, Sanitizer sanitizer, Lru lru,
    MigrateScanner migrateScanner, FreeScanner freeScanner, PageblockSkip skip, IMigration migration, BuddyAllocator buddy,
    Deferral deferral, ZoneReclaimable reclaimable, Lazy<IReclaim> reclaim, SimulationOptions options,
    PerCpuPagesets? pcp = null) : ICompaction
{
    /// <summary>sysctl_extfrag_threshold: /proc/sys/vm/extfrag_threshold, default 500.</summary>
    public const int ExtfragThreshold = 500;

    /// <summary>vm.compaction_proactiveness of this simulation.</summary>
    public int Proactiveness { get; } = options.CompactionProactiveness ?? Kcompactd.DefaultProactiveness;

    /// <summary>
    /// compact_nodes (writing /proc/sys/vm/compact_memory): lru_add_drain_all, then compact_node — every zone, order -1,
    /// MIGRATE_SYNC (or <paramref name="mode"/>), GFP_KERNEL, skip hints ignored, the whole zone, one compact_control.
    /// </summary>
    [Preemptible]
    public CompactStatus[] CompactNode(MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("compact_node");
        lru.LruAddDrainAll();
        var cc = new CompactControl(lists, node.Zones[0], -1, Gfp.Kernel, mode, ignoreSkipHint: true) { WholeZone = true };
        var result = node.Zones.Select(zone =>
        {
            cc.Zone = zone;
            return CompactZone(cc).ToV3_16();
        }).ToArray();
        Release(cc);
        return result;
    }

    /// <summary>
    /// try_to_compact_pages (6.1): nothing without __GFP_IO; each zone of the zonelist (highest first): a deferred zone
    /// is passed (DEFERRED) unless at SYNC_FULL priority; compact_zone_order; SUCCESS stops the walk with the deferral
    /// reset (not as an allocation success); a sync run that completed or partially skipped defers the zone; async
    /// compaction stops on need_resched, any on a fatal signal. The highest result; <paramref name="capture"/> a block captured for the caller, or -1.
    /// </summary>
    public CompactResultCode TryToCompactPages(int order, Gfp gfp, int allocFlags, CompactPriority prio, out int capture)
    {
        using var _ = scheduler.Current.Path.Enter("try_to_compact_pages");
        capture = -1;
        var rc = CompactResultCode.Skipped;
        if ((gfp & Gfp.Io) == 0) return rc;
        int highest = node.Zones.Count - 1;
        for (int i = highest; i >= 0; i--)
        {
            var zone = node.Zones[i];
            if (prio > CompactPriority.MinCompactPriority && deferral.CompactionDeferred(zone, order))
            {
                rc = (CompactResultCode)Math.Max((int)CompactResultCode.Deferred, (int)rc);
                continue;
            }
            var status = CompactZoneOrder(zone, order, gfp, prio, allocFlags, highest, out capture);
            rc = (CompactResultCode)Math.Max((int)status, (int)rc);
            if (status == CompactResultCode.Success)
            {
                deferral.CompactionDeferReset(zone, order, allocSuccess: false);
                break;
            }
            if (prio != CompactPriority.Async && status is CompactResultCode.Complete or CompactResultCode.PartialSkipped)
                deferral.DeferCompaction(zone, order);
            if ((prio == CompactPriority.Async && clock.NeedResched()) || signal.Pending) break;
        }
        return rc;
    }

    /// <summary>
    /// compact_zone_order (6.1): one direct compact_control — ASYNC mode at ASYNC priority, else SYNC_LIGHT; SYNC_FULL
    /// means the whole zone with skip hints and block suitability ignored — with current-&gt;capture_control set for
    /// its duration; a captured block makes it a SUCCESS.
    /// </summary>
    private CompactResultCode CompactZoneOrder(Zone zone, int order, Gfp gfp, CompactPriority prio, int allocFlags, int highest, out int capture)
    {
        bool min = prio == CompactPriority.MinCompactPriority;
        var capc = new CaptureControl(zone, order);
        var cc = new CompactControl(lists, zone, order, gfp, prio == CompactPriority.Async ? MigrateMode.Async : MigrateMode.SyncLight, ignoreSkipHint: min)
        {
            AllocFlags = allocFlags, HighestZoneidx = highest, DirectCompaction = true, WholeZone = min, IgnoreBlockSuitable = min, Capture = capc,
        };
        var task = scheduler.Current;
        buddy.SetCaptureControl(task, capc);
        var ret = CompactZone(cc);
        Release(cc);
        buddy.SetCaptureControl(task, null);
        capture = capc.Page;
        return capture >= 0 ? CompactResultCode.Success : ret;
    }

    /// <summary>compact_zone on a caller's compact_control (a 6.1 one, from <see cref="NewControl"/>), as v3.16's four values.</summary>
    [Preemptible]
    public CompactStatus CompactZone(Compaction.CompactControl cc) => CompactZone((CompactControl)cc).ToV3_16();

    /// <summary>
    /// compact_zone (6.1): compaction_suitable (SUCCESS or SKIPPED end it); after maximal deferral the skip bits are
    /// reset (if flagged); the scanners start at the zone's ends (whole_zone) or the cached positions; then isolate a
    /// batch (a block, or its rescan in full), migrate it into pages of the free scanner, put back what did not move
    /// (async direct compaction then skips the rest of the order-aligned block), drain this CPU's pagevecs and per-cpu
    /// lists once the scanner left the block it migrated from, and stop on a captured page — until __compact_finished
    /// says otherwise. Leftover free pages go back; the scanned totals are counted.
    /// </summary>
    [Preemptible]
    public CompactResultCode CompactZone(CompactControl cc)
    {
        using var _ = scheduler.Current.Path.Enter("compact_zone");
        var zone = cc.Zone;
        bool sync = cc.Mode != MigrateMode.Async;
        var cached = zone.CompactCachedMigratePfn;
        cc.TotalMigrateScanned = cc.TotalFreeScanned = 0;
        cc.NrMigratepages = cc.NrFreepages = 0;
        var ret = CompactionSuitable(zone, cc.Order, cc.AllocFlags, cc.HighestZoneidx);
        if (ret is CompactResultCode.Success or CompactResultCode.Skipped) return ret;
        if (deferral.CompactionRestarting(zone, cc.Order)) skip.ResetIsolationSuitable(zone);
        cc.FastStartPfn = 0;
        if (cc.WholeZone)
        {
            cc.MigratePfn = zone.StartPfn;
            cc.FreePfn = PageblockSkip.PageblockStartPfn(zone.EndPfn - 1);
        }
        else
        {
            cc.MigratePfn = cached[sync ? 1 : 0];
            cc.FreePfn = zone.CompactCachedFreePfn;
            if (cc.FreePfn < zone.StartPfn || cc.FreePfn >= zone.EndPfn)
                cc.FreePfn = zone.CompactCachedFreePfn = PageblockSkip.PageblockStartPfn(zone.EndPfn - 1);
            if (cc.MigratePfn < zone.StartPfn || cc.MigratePfn >= zone.EndPfn)
                cc.MigratePfn = cached[0] = cached[1] = zone.StartPfn;
            if (cc.MigratePfn <= zone.CompactInitMigratePfn) cc.WholeZone = true;
        }
        int lastMigratedPfn = 0;
        bool updateCached = !sync && cached[0] == cached[1];
        lru.LruAddDrain();

        while ((ret = CompactFinished(cc)) == CompactResultCode.Continue)
        {
            int iterationStartPfn = cc.MigratePfn;
            cc.Rescan = PageblockSkip.PageblockStartPfn(lastMigratedPfn) == PageblockSkip.PageblockStartPfn(iterationStartPfn);
            var isolated = migrateScanner.IsolateMigratepages(cc);
            if (isolated == IsolateMigrate.Abort)
            {
                ret = CompactResultCode.Contended;
                migration.PutbackMovablePages(cc.MigratePages);
                cc.NrMigratepages = 0;
                break;
            }
            if (isolated == IsolateMigrate.None)
            {
                if (updateCached) cached[1] = cached[0];
            }
            else
            {
                updateCached = false;
                lastMigratedPfn = iterationStartPfn;
                int err = migration.MigratePages(cc.MigratePages, _ => freeScanner.CompactionAlloc(cc), page => freeScanner.CompactionFree(cc, page), cc.Mode);
                cc.NrMigratepages = 0;
                if (err != 0)
                {
                    migration.PutbackMovablePages(cc.MigratePages);
                    if (err == MigrateRc.ENoMem && !cc.ScannersMetInPageblock)
                    {
                        ret = CompactResultCode.Contended;
                        break;
                    }
                    if (cc.DirectCompaction && cc.Mode == MigrateMode.Async)
                    {
                        cc.MigratePfn = MigrateScanner.BlockEndPfn(cc.MigratePfn - 1, cc.Order);
                        lastMigratedPfn = 0;
                    }
                }
            }
            // check_drain: the scanner left the order-aligned block it migrated from: flush what was freed there.
            if (cc.Order > 0 && lastMigratedPfn != 0 && lastMigratedPfn < (cc.MigratePfn & ~((1 << cc.Order) - 1)))
            {
                LruAddDrainCpuZone(zone);
                lastMigratedPfn = 0;
            }
            if (cc.Capture is { Page: >= 0 })
            {
                ret = CompactResultCode.Success;
                break;
            }
        }

        if (cc.NrFreepages > 0)
        {
            int freePfn = PageblockSkip.PageblockStartPfn(freeScanner.ReleaseFreepages(cc.FreePages));
            cc.NrFreepages = 0;
            if (freePfn > zone.CompactCachedFreePfn) zone.CompactCachedFreePfn = freePfn;
        }
        vmstat.Count(VmEvent.CompactMigrateScanned, cc.TotalMigrateScanned);
        vmstat.Count(VmEvent.CompactFreeScanned, cc.TotalFreeScanned);
        return ret;
    }

    /// <summary>lru_add_drain_cpu_zone: this CPU's LRU pagevecs and its per-cpu page lists of the zone.</summary>
    [Preemptible]
    private void LruAddDrainCpuZone(Zone zone)
    {
        lru.LruAddDrain();
        if (pcp is not null) pcp.DrainPagesZone(buddy, scheduler.Current.Cpu, zone);
    }

    /// <summary>compact_finished: __compact_finished, with NO_SUITABLE_PAGE read as CONTINUE.</summary>
    private CompactResultCode CompactFinished(CompactControl cc)
    {
        var ret = CompactFinishedInner(cc);
        return ret == CompactResultCode.NoSuitablePage ? CompactResultCode.Continue : ret;
    }

    /// <summary>
    /// __compact_finished (6.1): scanners met → caches reset, the skip bits flagged for a flush after direct compaction,
    /// COMPLETE for a whole-zone run else PARTIAL_SKIPPED. Proactive compaction runs while kswapd does not and the zone's
    /// score is above the low mark. compact_memory never finishes early. Otherwise the current pageblock is always
    /// finished; then a free block of the order or above on the request's list, or one a fallback could steal whole,
    /// means SUCCESS. Contention or a fatal signal (Ctrl-C) turns what is left into CONTENDED.
    /// </summary>
    private CompactResultCode CompactFinishedInner(CompactControl cc)
    {
        var zone = cc.Zone;
        if (cc.ScannersMetInPageblock)
        {
            PageblockSkip.ResetCachedPositions(zone);
            if (cc.DirectCompaction) zone.CompactBlockskipFlush = true;
            return cc.WholeZone ? CompactResultCode.Complete : CompactResultCode.PartialSkipped;
        }
        CompactResultCode ret;
        if (cc.ProactiveCompaction)
        {
            if (reclaim.Value.KswapdRunning) return CompactResultCode.PartialSkipped;
            ret = Kcompactd.FragmentationScoreZone(zone) > Kcompactd.FragmentationScoreWmark(Proactiveness, low: true)
                ? CompactResultCode.Continue : CompactResultCode.Success;
        }
        else
        {
            if (cc.Order == -1) return CompactResultCode.Continue;
            if (!PageblockSkip.PageblockAligned(cc.MigratePfn)) return CompactResultCode.Continue;
            for (int order = cc.Order; order < Zone.MaxOrder; order++)
            {
                if (!lists.Empty(zone.FreeList(order, cc.Migratetype))) return CompactResultCode.Success;
                if (BuddyAllocator.FindSuitableFallback(lists, zone, order, cc.Migratetype, onlyStealable: true, out _) != -1)
                    return CompactResultCode.Success;
            }
            ret = CompactResultCode.NoSuitablePage;
        }
        return cc.Contended || signal.Pending ? CompactResultCode.Contended : ret;
    }

    /// <summary>
    /// compaction_suitable (6.1): __compaction_suitable on NR_FREE_PAGES, and for costly orders only the fragmentation
    /// index: 0..extfrag_threshold means the failure is lack of memory (NOT_SUITABLE_ZONE, reported as SKIPPED).
    /// </summary>
    public CompactResultCode CompactionSuitable(Zone zone, int order, int allocFlags, int highestZoneidx)
    {
        var ret = CompactionSuitableInner(zone, order, allocFlags, highestZoneidx, zone.FreePages);
        if (ret == CompactResultCode.Continue && order > PageAlloc.V6_1.PageAllocator.CostlyOrder)
        {
            int fragindex = Fragmentation.ZoneIndex(zone, order);
            if (fragindex >= 0 && fragindex <= ExtfragThreshold) ret = CompactResultCode.Skipped;
        }
        return ret;
    }

    /// <summary>
    /// __compaction_suitable (6.1): CONTINUE for compact_memory; SUCCESS if the allocation would already pass its
    /// watermark (wmark_pages of <paramref name="allocFlags"/>: the boosted min for kcompactd and direct compaction);
    /// SKIPPED unless <paramref name="wmarkTarget"/> free pages pass the order-0 test at the min mark (low for costly
    /// orders) plus compact_gap (2 &lt;&lt; order); else CONTINUE.
    /// </summary>
    private CompactResultCode CompactionSuitableInner(Zone zone, int order, int allocFlags, int highestZoneidx, long wmarkTarget)
    {
        if (order == -1) return CompactResultCode.Continue;
        long watermark = zone.WmarkPages(allocFlags & AllocFlags.WmarkMask);
        if (buddy.ZoneWatermarkOk(zone, order, watermark, highestZoneidx, allocFlags, zone.FreePages)) return CompactResultCode.Success;
        watermark = zone.WmarkPages(order > PageAlloc.V6_1.PageAllocator.CostlyOrder ? Zone.WmarkLow : Zone.WmarkMin) + (2L << order);
        return buddy.ZoneWatermarkOk(zone, 0, watermark, highestZoneidx, AllocFlags.Cma, wmarkTarget)
            ? CompactResultCode.Continue : CompactResultCode.Skipped;
    }

    /// <summary>
    /// compaction_zonelist_suitable (6.1, should_compact_retry's question after SKIPPED): would some zone pass
    /// __compaction_suitable with its free pages and 1/order of what reclaim could free?
    /// </summary>
    public bool CompactionZonelistSuitable(int order, int allocFlags)
    {
        int highest = node.Zones.Count - 1;
        for (int i = highest; i >= 0; i--)
        {
            var zone = node.Zones[i];
            long available = (reclaim.Value.Modelled ? reclaimable.Pages(zone) : 0) / order + zone.FreePages;
            if (CompactionSuitableInner(zone, order, allocFlags, highest, available) == CompactResultCode.Continue) return true;
        }
        return false;
    }

    CompactStatus ICompaction.CompactionSuitable(Zone zone, int order) => CompactionSuitable(zone, order, 0, node.Zones.Count - 1).ToV3_16();

    /// <summary>
    /// compact_pgdat was removed in v4.6: 6.1's kswapd wakes kcompactd instead (<see cref="Kcompactd"/> is the v6.1
    /// design's <see cref="IBackgroundCompaction"/>), so nothing in a 6.1 kernel asks for it.
    /// </summary>
    public void CompactPgdat(int order) =>
        throw new NotSupportedException("compact_pgdat does not exist in 6.1 (removed in v4.6): kswapd wakes kcompactd");

    /// <summary>reset_isolation_suitable (kswapd going to sleep): each zone flagged for a flush gets the sampling reset.</summary>
    [Preemptible]
    public void ResetIsolationSuitable()
    {
        foreach (var zone in node.Zones)
            if (zone.CompactBlockskipFlush) skip.ResetIsolationSuitable(zone);
    }

    public bool CompactionDeferred(Zone zone, int order) => deferral.CompactionDeferred(zone, order);

    public void DeferCompaction(Zone zone, int order) => deferral.DeferCompaction(zone, order);

    public void CompactionDeferReset(Zone zone, int order, bool allocSuccess) => deferral.CompactionDeferReset(zone, order, allocSuccess);

    /// <summary>A 6.1 compact_control for a caller's run: GFP_HIGHUSER_MOVABLE for a MOVABLE migratetype, else GFP_KERNEL (| __GFP_RECLAIMABLE).</summary>
    public Compaction.CompactControl NewControl(Zone zone, int order, int migratetype, MigrateMode mode, bool ignoreSkipHint)
    {
        var gfp = migratetype switch
        {
            MigrateType.Movable => Gfp.HighUserMovable,
            MigrateType.Reclaimable => Gfp.Kernel | Gfp.Reclaimable,
            _ => Gfp.Kernel,
        };
        return new CompactControl(lists, zone, order, gfp, mode, ignoreSkipHint);
    }

    [Preemptible]
    public int IsolateMigratepagesRange(Compaction.CompactControl cc, int lowPfn, int endPfn) =>
        ((IMigrateScanner)migrateScanner).IsolateMigratepagesRange(cc, lowPfn, endPfn);

    /// <summary>The end of a compact_control: both private lists must be empty (VM_BUG_ON in compact_zone_order and the others).</summary>
    public void Release(Compaction.CompactControl cc)
    {
        if (!lists.Empty(cc.FreePages) || !lists.Empty(cc.MigratePages))
            sanitizer.Report(ReportKind.VmBug, -1, "VM_BUG_ON(!list_empty(&cc->freepages / &cc->migratepages)) after compact_zone");
        cc.Release();
    }
}
