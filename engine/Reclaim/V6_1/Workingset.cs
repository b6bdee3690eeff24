using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// Workingset refault detection of 6.1 mm/workingset.c (the classic two-list LRU; read in 6.1.78,
/// Natsume324/MagicPad2_OS9.0_Kernel) over the node lruvec. The lruvec's <c>nonresident_age</c> counts evictions and
/// activations. Reclaim's eviction of a swap-cache page (<c>__remove_mapping</c>) leaves a shadow entry in the slot: the
/// age then and the page's PG_workingset. A swap-in that reads the slot again (<c>__read_swap_cache_async</c>) measures
/// the refault distance, the age since; a page whose distance fits in the workingset (the file lists and, with swap
/// left, the active anon list) is activated before it reaches the LRU, and one that had been in the workingset is
/// restored to it (PG_workingset, its cost noted: <c>lru_note_cost_refault</c>). Reclaim that sees new anon activations
/// since its last snapshot (<c>snapshot_refaults</c>) deactivates anon pages (<c>prepare_scan_count</c>). Evictions of
/// file pages age the lruvec too, but no file page is read back into the page cache here, so file refaults never
/// happen: <c>workingset_*_file</c> stay 0. The memcg and the shadow-node shrinker are not modelled.
/// </summary>
internal sealed partial class Workingset(Node node, PageTable pages, NodeReclaimState state, SwapArea swap, VmStat vmstat) : ISnapshotState
{
    /// <summary><c>lruvec-&gt;nonresident_age</c>.</summary>
    public long NonresidentAge { get; private set; }

    /// <summary>
    /// WORKINGSET_ACTIVATE_ANON as reclaim reads it (<see cref="VmEvent.WorkingsetActivateAnon"/> counts the same for
    /// /proc/vmstat; reading the vm events is ordered against every step of an explored race, this is not).
    /// </summary>
    private long _activateAnon;

    /// <summary><c>lruvec-&gt;refaults[WORKINGSET_ANON]</c>: WORKINGSET_ACTIVATE_ANON at the last snapshot_refaults.</summary>
    private long _refaultsAnon;

    /// <summary>
    /// workingset_eviction of a page reclaim is taking out of the page or swap cache: the shadow entry (the age before
    /// this eviction, and PG_workingset; never 0), and the lruvec ages by one.
    /// </summary>
    public long Eviction(int page)
    {
        long eviction = NonresidentAge++;
        return 1 + (eviction << 1 | (pages.Test(page, PG.Workingset) ? 1L : 0));
    }

    /// <summary>workingset_refault of a swap-in's new page, which replaced <paramref name="shadow"/> in the swap cache.</summary>
    [Preemptible]
    public void Refault(int page, long shadow)
    {
        long eviction = (shadow - 1) >> 1;
        bool workingset = ((shadow - 1) & 1) != 0;
        long refaultDistance = NonresidentAge - eviction;
        vmstat.Count(VmEvent.WorkingsetRefaultAnon);
        long workingsetSize = LruSize(Zone.LruActiveFile) + LruSize(Zone.LruInactiveFile);
        if (swap.NrSwapPages > 0) workingsetSize += LruSize(Zone.LruActiveAnon); // mem_cgroup_get_nr_swap_pages
        if (refaultDistance > workingsetSize) return;
        pages.Set(page, PG.Active);
        NonresidentAge++;
        _activateAnon++;
        vmstat.Count(VmEvent.WorkingsetActivateAnon);
        if (!workingset) return;
        pages.Set(page, PG.Workingset);
        state.LruNoteCost(file: false, 1);
        vmstat.Count(VmEvent.WorkingsetRestoreAnon);
    }

    /// <summary>workingset_activation, from folio_mark_accessed's activation: the lruvec ages by one.</summary>
    public void Activation() => NonresidentAge++;

    /// <summary>snapshot_refaults (end of do_try_to_free_pages and of balance_pgdat).</summary>
    public void SnapshotRefaults() => _refaultsAnon = _activateAnon;

    /// <summary>prepare_scan_count's test: anon pages were activated on refault since the last snapshot.</summary>
    public bool NewAnonRefaults => _activateAnon != _refaultsAnon;

    private long LruSize(int l) => node.GlobalStat(ZoneStat.NrInactiveAnon + l);

    public object Save() => (NonresidentAge, _activateAnon, _refaultsAnon);

    public void Restore(object saved) => (NonresidentAge, _activateAnon, _refaultsAnon) = ((long, long, long))saved;
}
