using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// Memory compaction, v3.16 mm/compaction.c: <c>compact_zone</c> runs the migrate scanner up from the zone
/// start and the free scanner down from the zone end, migrating movable pages into free pages at the top,
/// until the scanners meet or the requested order is available. Entry points: <c>compact_node</c> (writing
/// /proc/sys/vm/compact_memory) and <c>try_to_compact_pages</c> (direct compaction from the allocator).
/// Everything runs on the simulated CPU of the calling <see cref="SimTask"/>.
/// </summary>
[KernelPart("compaction", PartVersion.V3_16)]
internal sealed partial class Compactor(Node node, PageLists lists, Scheduler scheduler, FatalSignal signal, VmStat vmstat, Sanitizer sanitizer,
    IMigrateScanner migrateScanner, FreeScanner freeScanner, IMigration migration, IBuddyAllocator buddy, Deferral deferral, Lru lru)
    : ICompaction, ISnapshotState
{
    /// <summary>sysctl_extfrag_threshold: /proc/sys/vm/extfrag_threshold, default 500.</summary>
    public int ExtfragThreshold { get; set; } = 500;

    public object Save() => ExtfragThreshold;

    public void Restore(object saved) => ExtfragThreshold = (int)saved;

    /// <summary>
    /// compact_nodes (v3.16, writing /proc/sys/vm/compact_memory): lru_add_drain_all ("flush pending updates to the LRU
    /// lists"), then compact_node through __compact_pgdat: every zone, order -1, MIGRATE_SYNC (or <paramref name="mode"/>),
    /// skip hints ignored, one compact_control for all of them. Returns each zone's compact_zone result.
    /// </summary>
    [Preemptible]
    public CompactStatus[] CompactNode(MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("compact_node");
        lru.LruAddDrainAll();
        var zones = node.Zones;
        var result = new CompactStatus[zones.Count];
        // compact_node's control leaves .migratetype 0 (MIGRATE_UNMOVABLE); order -1 never reads it.
        var cc = NewControl(zones[0], -1, MigrateType.Unmovable, mode, ignoreSkipHint: true);
        for (int i = 0; i < zones.Count; i++)
        {
            cc.Zone = zones[i];
            result[i] = CompactZone(cc);
        }
        Release(cc);
        return result;
    }

    /// <summary>
    /// try_to_compact_pages (v3.16): nothing for order 0 or without __GFP_FS/__GFP_IO; else count compact_stall
    /// and compact each zone of the zonelist (highest first) until one meets the order's low watermark.
    /// Returns the highest status; <paramref name="contended"/> is the last zone's.
    /// </summary>
    public CompactStatus TryToCompactPages(int order, Gfp gfp, MigrateMode mode, out bool contended)
    {
        using var _ = scheduler.Current.Path.Enter("try_to_compact_pages");
        contended = false;
        var rc = CompactStatus.Skipped;
        if (order == 0 || (gfp & Gfp.Fs) == 0 || (gfp & Gfp.Io) == 0) return rc;
        vmstat.Count(VmEvent.CompactStall);
        var zones = node.Zones;
        for (int i = zones.Count - 1; i >= 0; i--)
        {
            var zone = zones[i];
            var status = CompactZoneOrder(zone, order, gfp, mode, out contended);
            if (status > rc) rc = status;
            if (buddy.ZoneWatermarkOk(zone, order, zone.Watermark[Zone.WmarkLow], 0, 0)) break;
        }
        return rc;
    }

    /// <summary>compact_zone_order: one compact_control for this zone and request (direct compaction).</summary>
    public CompactStatus CompactZoneOrder(Zone zone, int order, Gfp gfp, MigrateMode mode, out bool contended)
    {
        var cc = new CompactControl(lists, zone, order, gfp.MigrateType(), mode, ignoreSkipHint: false) { DirectCompaction = true };
        var ret = CompactZone(cc);
        Release(cc);
        contended = cc.Contended;
        return ret;
    }

    /// <summary>A compaction as a kernel path on one CPU, for scenarios: compact_node, or compact_zone_order on every zone.</summary>
    public SimTask CompactionTask(int id, int cpu, int order, MigrateMode mode) => order < 0
        ? new SimTask(id, cpu, "compact_memory", () => CompactNode(MigrateMode.Sync))
        : new SimTask(id, cpu, $"compact(order {order}, {mode})", () =>
        {
            foreach (var zone in node.Zones) CompactZoneOrder(zone, order, Gfp.HighUserMovable, mode, out _);
        });

    /// <summary>
    /// compaction_suitable (v3.16): always for order -1; skipped without twice the request above the low
    /// watermark in order-0 pages (no room for targets) or when the fragmentation index says the failure is
    /// lack of memory (0..extfrag_threshold); partial when the allocation would already succeed.
    /// </summary>
    public CompactStatus CompactionSuitable(Zone zone, int order)
    {
        if (order == -1) return CompactStatus.Continue;
        long watermark = zone.Watermark[Zone.WmarkLow] + (2L << order);
        if (!buddy.ZoneWatermarkOk(zone, 0, watermark, 0, 0)) return CompactStatus.Skipped;
        int fragindex = Fragmentation.ZoneIndex(zone, order);
        if (fragindex >= 0 && fragindex <= ExtfragThreshold) return CompactStatus.Skipped;
        if (fragindex == -1000 && buddy.ZoneWatermarkOk(zone, order, watermark, 0, 0)) return CompactStatus.Partial;
        return CompactStatus.Continue;
    }

    /// <summary>
    /// compact_finished (v3.16): partial if contended or on a fatal signal (Ctrl-C); complete when the scanners met (cached positions reset,
    /// skip bits due for a flush); for a real order, partial once a free block of that order (of the
    /// requested migratetype, or any type for pageblock-sized requests) exists above the watermark.
    /// </summary>
    public CompactStatus CompactFinished(Zone zone, CompactControl cc)
    {
        if (cc.Contended || signal.Pending) return CompactStatus.Partial;
        if (migrateScanner.ScannersMet(cc))
        {
            zone.CompactCachedMigratePfn[0] = zone.StartPfn;
            zone.CompactCachedMigratePfn[1] = zone.StartPfn;
            zone.CompactCachedFreePfn = zone.EndPfn;
            if ((scheduler.Current.Flags & PF.Kswapd) == 0) zone.CompactBlockskipFlush = true;
            return CompactStatus.Complete;
        }
        if (cc.Order == -1) return CompactStatus.Continue;
        long watermark = zone.Watermark[Zone.WmarkLow] + (1L << cc.Order);
        if (!buddy.ZoneWatermarkOk(zone, cc.Order, watermark, 0, 0)) return CompactStatus.Continue;
        for (int order = cc.Order; order < Zone.MaxOrder; order++)
        {
            if (!lists.Empty(zone.FreeList(order, cc.Migratetype))) return CompactStatus.Partial;
            if (cc.Order >= Zone.PageblockOrder && zone.NrFree[order] > 0) return CompactStatus.Partial;
        }
        return CompactStatus.Continue;
    }

    /// <summary>
    /// compact_zone (v3.16): check suitability; after maximal deferral clear the skip bits; resume from the
    /// cached scanner positions; drain this CPU's LRU batches (migrate_prep_local); isolate a batch, migrate it into
    /// pages from the free scanner, put back what did not move; stop when compact_finished says so, on an isolation
    /// abort, or when targets ran out before the scanners met. Leftover free pages go back to the allocator.
    /// </summary>
    [Preemptible]
    public CompactStatus CompactZone(CompactControl cc)
    {
        using var _ = scheduler.Current.Path.Enter("compact_zone");
        var zone = cc.Zone;
        var ret = CompactionSuitable(zone, cc.Order);
        if (ret is CompactStatus.Partial or CompactStatus.Skipped) return ret;
        if (deferral.CompactionRestarting(zone, cc.Order) && (scheduler.Current.Flags & PF.Kswapd) == 0) ResetIsolationSuitable(zone);

        bool sync = cc.Mode != MigrateMode.Async;
        cc.MigratePfn = zone.CompactCachedMigratePfn[sync ? 1 : 0];
        cc.FreePfn = zone.CompactCachedFreePfn;
        if (cc.FreePfn < zone.StartPfn || cc.FreePfn > zone.EndPfn)
        {
            cc.FreePfn = zone.EndPfn & ~(Zone.PageblockNrPages - 1);
            zone.CompactCachedFreePfn = cc.FreePfn;
        }
        if (cc.MigratePfn < zone.StartPfn || cc.MigratePfn > zone.EndPfn)
        {
            cc.MigratePfn = zone.StartPfn;
            zone.CompactCachedMigratePfn[0] = cc.MigratePfn;
            zone.CompactCachedMigratePfn[1] = cc.MigratePfn;
        }
        lru.LruAddDrain(); // migrate_prep_local: this CPU's pages still in its LRU batches become LRU pages the scanner can take

        while ((ret = CompactFinished(zone, cc)) == CompactStatus.Continue)
        {
            if (migrateScanner.PassOverUnsuitablePageblocks(zone, cc) > 0) continue;
            var isolated = migrateScanner.IsolateMigratepages(zone, cc);
            if (isolated == IsolateMigrate.Abort)
            {
                ret = CompactStatus.Partial;
                migration.PutbackMovablePages(cc.MigratePages);
                cc.NrMigratepages = 0;
                break;
            }
            if (isolated == IsolateMigrate.None || cc.NrMigratepages == 0) continue;
            int err = migration.MigratePages(cc.MigratePages, _ => freeScanner.CompactionAlloc(cc),
                page => freeScanner.CompactionFree(cc, page), cc.Mode);
            cc.NrMigratepages = 0;
            if (err != 0)
            {
                migration.PutbackMovablePages(cc.MigratePages);
                if (err == MigrateRc.ENoMem && !migrateScanner.ScannersMet(cc))
                {
                    ret = CompactStatus.Partial;
                    break;
                }
            }
        }
        cc.NrFreepages -= freeScanner.ReleaseFreepages(cc.FreePages);
        if (cc.NrFreepages != 0)
            sanitizer.Report(ReportKind.VmBug, -1, $"VM_BUG_ON(cc->nr_freepages != 0) in compact_zone: {cc.NrFreepages}");
        return ret;
    }

    public CompactControl NewControl(Zone zone, int order, int migratetype, MigrateMode mode, bool ignoreSkipHint) =>
        new(lists, zone, order, migratetype, mode, ignoreSkipHint);

    [Preemptible]
    public int IsolateMigratepagesRange(CompactControl cc, int lowPfn, int endPfn) =>
        migrateScanner.IsolateMigratepagesRange(cc, lowPfn, endPfn);

    public bool CompactionDeferred(Zone zone, int order) => deferral.CompactionDeferred(zone, order);

    /// <summary>
    /// compact_pgdat (v3.16, from kswapd): nothing for order 0; else every zone not deferred at this order is
    /// compacted asynchronously through __compact_pgdat's one compact_control (a zone where something was isolated
    /// leaves finished_update_* set for the next, a contended one leaves it contended), and a zone that meets the
    /// order's low watermark afterwards has its deferral reset (without the allocation-success reset).
    /// </summary>
    [Preemptible]
    public void CompactPgdat(int order)
    {
        if (order == 0) return;
        using var _ = scheduler.Current.Path.Enter("compact_pgdat");
        var cc = NewControl(node.Zones[0], order, MigrateType.Unmovable, MigrateMode.Async, ignoreSkipHint: false);
        foreach (var zone in node.Zones)
        {
            cc.Zone = zone;
            if (!deferral.CompactionDeferred(zone, order)) CompactZone(cc);
            if (buddy.ZoneWatermarkOk(zone, order, zone.Watermark[Zone.WmarkLow], 0, 0))
                deferral.CompactionDeferReset(zone, order, allocSuccess: false);
        }
        Release(cc);
    }

    /// <summary>reset_isolation_suitable (v3.16, kswapd going to sleep): clear the skip bits of every zone due for a flush.</summary>
    public void ResetIsolationSuitable()
    {
        foreach (var zone in node.Zones)
            if (zone.CompactBlockskipFlush) ResetIsolationSuitable(zone);
    }

    public void DeferCompaction(Zone zone, int order) => deferral.DeferCompaction(zone, order);

    public void CompactionDeferReset(Zone zone, int order, bool allocSuccess) => deferral.CompactionDeferReset(zone, order, allocSuccess);

    /// <summary>The end of a compact_control: both private lists must be empty (VM_BUG_ON in compact_zone_order).</summary>
    public void Release(CompactControl cc)
    {
        if (!lists.Empty(cc.FreePages) || !lists.Empty(cc.MigratePages))
            sanitizer.Report(ReportKind.VmBug, -1, "VM_BUG_ON(!list_empty(&cc->freepages / &cc->migratepages)) after compact_zone");
        cc.Release();
    }

    /// <summary>__reset_isolation_suitable: clear every skip bit, reset the cached scanner positions.</summary>
    private void ResetIsolationSuitable(Zone zone)
    {
        zone.CompactCachedMigratePfn[0] = zone.StartPfn;
        zone.CompactCachedMigratePfn[1] = zone.StartPfn;
        zone.CompactCachedFreePfn = zone.EndPfn;
        zone.CompactBlockskipFlush = false;
        Array.Clear(zone.PageblockSkip);
    }
}
