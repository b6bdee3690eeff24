using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// The scan loop of <c>shrink_lruvec</c> (mm/vmscan.c): the evictable lists in SWAP_CLUSTER_MAX batches, round robin;
/// once <c>nr_to_reclaim</c> is met (unless the caller scans proportionally, direct reclaim's first pass), the smaller
/// of anon and file stops and the other is cut to the share of its target the smaller had left. v3.16 then scans the
/// other to its cut target (<c>scan_adjusted</c>); in 6.1 the smaller's zero count ends the loop after the next round.
/// </summary>
internal static class ShrinkLruvecLoop
{
    private const int SwapClusterMax = 32;

    /// <summary>
    /// Runs the loop over <paramref name="nr"/> (pages to scan per list, consumed); <paramref name="shrinkList"/>
    /// scans one batch of one list (given <paramref name="state"/>, so that a static lambda allocates nothing per call)
    /// and returns the pages reclaimed. <paramref name="scanToCutTarget"/>: v3.16's scan_adjusted;
    /// <paramref name="condResched"/>: 6.1's cond_resched after each round. Returns the pages reclaimed.
    /// </summary>
    public static long Run<TState>(Span<long> nr, long nrToReclaim, bool proportionalReclaim, TState state,
        Func<TState, int, long, long> shrinkList, bool scanToCutTarget, Action? condResched)
    {
        Span<long> targets = stackalloc long[Zone.LruUnevictable];
        nr.CopyTo(targets);
        long nrReclaimed = 0;
        bool scanAdjusted = proportionalReclaim;
        while (nr[Zone.LruInactiveAnon] > 0 || nr[Zone.LruActiveFile] > 0 || nr[Zone.LruInactiveFile] > 0)
        {
            for (int l = Zone.LruInactiveAnon; l <= Zone.LruActiveFile; l++)
            {
                if (nr[l] == 0) continue;
                long n = Math.Min(nr[l], SwapClusterMax);
                nr[l] -= n;
                nrReclaimed += shrinkList(state, l, n);
            }
            condResched?.Invoke();
            if (nrReclaimed < nrToReclaim || scanAdjusted) continue;
            long nrFile = nr[Zone.LruInactiveFile] + nr[Zone.LruActiveFile];
            long nrAnon = nr[Zone.LruInactiveAnon] + nr[Zone.LruActiveAnon];
            if (nrFile == 0 || nrAnon == 0) break;
            int smaller, other;
            long percentage;
            if (nrFile > nrAnon)
            {
                long scanTarget = targets[Zone.LruInactiveAnon] + targets[Zone.LruActiveAnon] + 1;
                percentage = nrAnon * 100 / scanTarget;
                (smaller, other) = (Zone.LruInactiveAnon, Zone.LruInactiveFile);
            }
            else
            {
                long scanTarget = targets[Zone.LruInactiveFile] + targets[Zone.LruActiveFile] + 1;
                percentage = nrFile * 100 / scanTarget;
                (smaller, other) = (Zone.LruInactiveFile, Zone.LruInactiveAnon);
            }
            nr[smaller] = nr[smaller + 1] = 0;
            for (int l = other; l <= other + 1; l++)
            {
                long scanned = targets[l] - nr[l];
                nr[l] = targets[l] * (100 - percentage) / 100;
                nr[l] -= Math.Min(nr[l], scanned);
            }
            scanAdjusted = scanToCutTarget;
        }
        return nrReclaimed;
    }
}
