using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// Direct reclaim of v3.16 mm/vmscan.c: <c>try_to_free_pages</c> → <c>do_try_to_free_pages</c> (priority 12 down
/// to 0 until SWAP_CLUSTER_MAX pages are reclaimed, waking the flusher once enough was scanned) →
/// <c>shrink_zones</c> (each zone the allocation may use, highest first; zones no longer reclaimable are skipped
/// after the first pass, and a zone ready for compaction ends reclaim for a high-order request), then the slab
/// shrinker. docs/kernel/reclaim-v3.16.md §2.3–2.5.
/// </summary>
internal sealed partial class DirectReclaim(Node node, LruShrinker shrinker, ShrinkSlab shrinkSlab, Writeback writeback, ICompaction compaction,
    IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler)
{
    /// <summary>
    /// try_to_free_pages (v3.16; kernel threads and the rest are not throttled here, since no node is ever short of
    /// its pfmemalloc reserve in the simulation — throttle_direct_reclaim is not modelled). Returns the progress
    /// the allocator sees: pages reclaimed, else 1 while compaction is ready or some zone is still reclaimable.
    /// </summary>
    [Preemptible]
    public long TryToFreePages(int order, Gfp gfp)
    {
        using var _ = scheduler.Current.Path.Enter("try_to_free_pages");
        var sc = new ScanControl { GfpMask = gfp, Order = order };
        vmstat.Count(VmEvent.Allocstall);
        long totalScanned = 0;
        bool aborted;
        do
        {
            sc.NrScanned = 0;
            aborted = ShrinkZones(sc);
            totalScanned += sc.NrScanned;
            if (sc.NrReclaimed >= sc.NrToReclaim) break;
            if (sc.Priority < ScanControl.DefPriority - 2) sc.MayWritepage = true;
            long writebackThreshold = sc.NrToReclaim + sc.NrToReclaim / 2;
            if (totalScanned > writebackThreshold)
            {
                writeback.WakeupFlusherThreads(totalScanned);
                sc.MayWritepage = true;
            }
        } while (--sc.Priority >= 0 && !aborted);
        if (sc.NrReclaimed > 0) return sc.NrReclaimed;
        if (aborted) return 1;
        return node.Zones.Any(shrinker.ZoneReclaimable) ? 1 : 0;
    }

    /// <summary>shrink_zones (v3.16): returns whether reclaim was aborted because a zone is ready for compaction.</summary>
    [Preemptible]
    private bool ShrinkZones(ScanControl sc)
    {
        bool aborted = false;
        long lruPages = 0;
        for (int i = node.Zones.Count - 1; i >= 0; i--)
        {
            var zone = node.Zones[i];
            lruPages += shrinker.ZoneReclaimablePages(zone);
            if (sc.Priority != ScanControl.DefPriority && !shrinker.ZoneReclaimable(zone)) continue;
            if (CompactionReady(zone, sc))
            {
                aborted = true;
                continue;
            }
            shrinker.ShrinkZone(zone, sc);
        }
        sc.NrReclaimed += shrinkSlab.Shrink(sc.GfpMask, sc.NrScanned, lruPages);
        return aborted;
    }

    /// <summary>
    /// compaction_ready (v3.16): for orders above 3, enough free order-0 memory above the high watermark (plus a
    /// gap of up to 1% of the zone) for compaction to take over; a deferred zone answers by the watermark alone,
    /// a zone compaction would skip never.
    /// </summary>
    private bool CompactionReady(Zone zone, ScanControl sc)
    {
        if (sc.Order <= 3) return false;
        long balanceGap = Math.Min(zone.Watermark[Zone.WmarkLow], (zone.ManagedPages + 99) / 100);
        long watermark = zone.Watermark[Zone.WmarkHigh] + balanceGap + (2L << sc.Order);
        bool ok = buddy.ZoneWatermarkOk(zone, 0, watermark, 0, 0);
        if (compaction.CompactionDeferred(zone, sc.Order)) return ok;
        if (compaction.CompactionSuitable(zone, sc.Order) == CompactStatus.Skipped) return false;
        return ok;
    }
}
