using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// Direct reclaim of 6.1 mm/vmscan.c: <c>try_to_free_pages</c> → <c>do_try_to_free_pages</c> (allocstall of the
/// request's zone; priority 12 down to 0 until SWAP_CLUSTER_MAX pages are reclaimed or a zone is ready for compaction;
/// once more with forced deactivation if an active list was skipped) → <c>shrink_zones</c> (a costly request skips a
/// zone ready for compaction; the node is shrunk once, <see cref="LruvecShrinker.ShrinkNode"/>) →
/// <c>consider_reclaim_throttle</c>. throttle_direct_reclaim (the pfmemalloc reserve) is not modelled, as in v3.16.
/// </summary>
internal sealed partial class DirectReclaim(Node node, LruvecShrinker shrinker, Workingset workingset, VmStat vmstat, Scheduler scheduler)
{
    /// <summary>try_to_free_pages (6.1): pages reclaimed, else 1 if reclaim stopped for compaction, else 0.</summary>
    [Preemptible]
    public long TryToFreePages(int order, Gfp gfp)
    {
        using var _ = scheduler.Current.Path.Enter("try_to_free_pages");
        var sc = new ScanControl { GfpMask = gfp, Order = order, ReclaimIdx = gfp.ZoneIdx() };
        return DoTryToFreePages(sc);
    }

    /// <summary>do_try_to_free_pages (6.1): after each pass down the priorities, snapshot_refaults.</summary>
    [Preemptible]
    private long DoTryToFreePages(ScanControl sc)
    {
        int initialPriority = sc.Priority;
        while (true)
        {
            vmstat.Count(VmEvent.AllocstallDma + sc.ReclaimIdx);
            do
            {
                sc.NrScanned = 0;
                ShrinkZones(sc);
                if (sc.NrReclaimed >= sc.NrToReclaim || sc.CompactionReady) break;
                if (sc.Priority < ScanControl.DefPriority - 2) sc.MayWritepage = true;
            } while (--sc.Priority >= 0);
            workingset.SnapshotRefaults();
            if (sc.NrReclaimed > 0) return sc.NrReclaimed;
            if (sc.CompactionReady) return 1;
            if (!sc.SkippedDeactivate) return 0;
            sc.Priority = initialPriority;
            sc.ForceDeactivate = true;
            sc.SkippedDeactivate = false;
        }
    }

    /// <summary>
    /// shrink_zones (6.1): the zones up to reclaim_idx, highest first; for orders above PAGE_ALLOC_COSTLY_ORDER a zone
    /// ready for compaction is skipped (and flags the scan); the node is shrunk at its first remaining zone; then
    /// consider_reclaim_throttle.
    /// </summary>
    [Preemptible]
    private void ShrinkZones(ScanControl sc)
    {
        bool shrunk = false;
        for (int i = node.Zones.Count - 1; i >= 0; i--)
        {
            var zone = node.Zones[i];
            if (zone.Index > sc.ReclaimIdx) continue;
            if (sc.Order > PageAlloc.V6_1.PageAllocator.CostlyOrder && shrinker.CompactionReady(zone, sc))
            {
                sc.CompactionReady = true;
                continue;
            }
            if (shrunk) continue;
            shrunk = true;
            shrinker.ShrinkNode(sc);
        }
        if (shrunk) ConsiderReclaimThrottle(sc);
    }

    /// <summary>consider_reclaim_throttle (6.1): a direct reclaimer that reclaimed nothing at priority 1 throttles (NOPROGRESS); over 12% efficiency would wake such waiters.</summary>
    [Preemptible]
    private void ConsiderReclaimThrottle(ScanControl sc)
    {
        if (sc.NrReclaimed > sc.NrScanned >> 3) return;
        if (sc.Priority == 1 && sc.NrReclaimed == 0) shrinker.ReclaimThrottle(LruvecShrinker.Throttle.NoProgress);
    }
}
