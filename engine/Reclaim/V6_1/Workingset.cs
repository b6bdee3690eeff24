using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// Workingset refault detection of 6.1 mm/workingset.c (the classic two-list LRU; read in 6.1.78,
/// Natsume324/MagicPad2_OS9.0_Kernel) over the node lruvec. The lruvec's <c>nonresident_age</c> counts evictions and
/// activations (a refault's, <c>folio_mark_accessed</c>'s, and the pages reclaim puts back active). Reclaim's eviction
/// of a page-cache or swap-cache page (<c>__remove_mapping</c>) leaves a shadow entry in its place: the age before it
/// and the page's PG_workingset. A read that finds the shadow (<c>filemap_add_folio</c> for
/// a file page, <c>__read_swap_cache_async</c> for a swap slot) measures the refault distance, the age since; a page
/// whose distance fits in the workingset (the active file list, the inactive file list too for an anonymous page, and
/// with swap left the anon lists: the active one, and the inactive one too for a file page) is activated before it
/// reaches the LRU, and one that had been in the workingset is restored to it (PG_workingset, its cost noted:
/// <c>lru_note_cost_refault</c>). Reclaim that sees new activations of a type since its last snapshot
/// (<c>snapshot_refaults</c>) deactivates pages of that type (<c>prepare_scan_count</c>). The memcg and the
/// shadow-node shrinker are not modelled.
/// </summary>
internal sealed partial class Workingset(Node node, PageTable pages, NodeReclaimState state, SwapArea swap, VmStat vmstat)
    : IWorkingset, ISnapshotState
{
    /// <summary><c>lruvec-&gt;nonresident_age</c>.</summary>
    public long NonresidentAge { get; private set; }

    /// <summary>
    /// WORKINGSET_ACTIVATE_ANON as reclaim reads it (<see cref="VmEvent.WorkingsetActivateAnon"/> counts the same for
    /// /proc/vmstat; reading the vm events is ordered against every step of an explored race, this is not).
    /// WORKINGSET_ACTIVATE_FILE is the zones' item, read as it is.
    /// </summary>
    private long _activateAnon;

    /// <summary><c>lruvec-&gt;refaults[WORKINGSET_ANON]</c> and <c>[WORKINGSET_FILE]</c>: the activations at the last snapshot_refaults.</summary>
    private long _refaultsAnon, _refaultsFile;

    /// <summary>
    /// workingset_eviction of a page reclaim is taking out of the page or swap cache: the shadow entry (the age before
    /// this eviction, and PG_workingset; never 0), and the lruvec ages by one.
    /// </summary>
    public long Eviction(int page)
    {
        long eviction = NonresidentAge++;
        return 1 + (eviction << 1 | (pages.Test(page, PG.Workingset) ? 1L : 0));
    }

    /// <summary>workingset_refault of a new page (not swap-backed: a page-cache page) that replaced <paramref name="shadow"/>.</summary>
    [Preemptible]
    public void Refault(int page, long shadow)
    {
        bool file = !pages.Test(page, PG.SwapBacked);
        long eviction = (shadow - 1) >> 1;
        bool workingset = ((shadow - 1) & 1) != 0;
        long refaultDistance = NonresidentAge - eviction;
        var zone = node.ZoneOf(page);
        if (file) zone.Stat.Add((int)ZoneStat.WorkingsetRefault, 1);
        else vmstat.Count(VmEvent.WorkingsetRefaultAnon);
        long workingsetSize = LruSize(Zone.LruActiveFile);
        if (!file) workingsetSize += LruSize(Zone.LruInactiveFile);
        if (swap.NrSwapPages > 0) // mem_cgroup_get_nr_swap_pages
        {
            workingsetSize += LruSize(Zone.LruActiveAnon);
            if (file) workingsetSize += LruSize(Zone.LruInactiveAnon);
        }
        if (refaultDistance > workingsetSize) return;
        pages.Set(page, PG.Active);
        NonresidentAge++;
        if (file) zone.Stat.Add((int)ZoneStat.WorkingsetActivate, 1);
        else
        {
            _activateAnon++;
            vmstat.Count(VmEvent.WorkingsetActivateAnon);
        }
        if (!workingset) return;
        pages.Set(page, PG.Workingset);
        state.LruNoteCost(file, 1);
        vmstat.Count(file ? VmEvent.WorkingsetRestoreFile : VmEvent.WorkingsetRestoreAnon);
    }

    /// <summary>workingset_activation, from folio_mark_accessed's activation of any page: the lruvec ages by one.</summary>
    public void Activation(int page) => AgeNonresident(1);

    /// <summary>workingset_age_nonresident: also from move_folios_to_lru, for each page reclaim puts back active.</summary>
    public void AgeNonresident(long nrPages) => NonresidentAge += nrPages;

    /// <summary>snapshot_refaults (end of do_try_to_free_pages and of balance_pgdat).</summary>
    public void SnapshotRefaults() => (_refaultsAnon, _refaultsFile) = (_activateAnon, ActivateFile);

    /// <summary>prepare_scan_count's test: anonymous pages were activated on refault since the last snapshot.</summary>
    public bool NewAnonRefaults => _activateAnon != _refaultsAnon;

    /// <summary>prepare_scan_count's test: page-cache pages were activated on refault since the last snapshot.</summary>
    public bool NewFileRefaults => ActivateFile != _refaultsFile;

    private long ActivateFile => node.GlobalStat(ZoneStat.WorkingsetActivate);

    private long LruSize(int l) => node.GlobalStat(ZoneStat.NrInactiveAnon + l);

    public object Save() => (NonresidentAge, _activateAnon, _refaultsAnon, _refaultsFile);

    public void Restore(object saved) => (NonresidentAge, _activateAnon, _refaultsAnon, _refaultsFile) = ((long, long, long, long))saved;
}
