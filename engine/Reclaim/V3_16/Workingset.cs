using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// Workingset refault detection of v3.16 mm/workingset.c (3.15; read in TROVON's v3.16 <c>workingset.c</c> and
/// <c>filemap.c</c>), for page-cache pages only. Each zone's <c>inactive_age</c> counts the file pages evicted from it
/// and the file pages activated in it. Reclaim's eviction of a page-cache page (<c>__remove_mapping</c>) leaves the age
/// after it (<c>atomic_long_inc_return</c>) and the zone in a shadow entry (<c>pack_shadow</c>); a swap-cache page
/// leaves none. A read that finds the shadow (<c>add_to_page_cache_lru</c>) counts WORKINGSET_REFAULT in that zone and,
/// when the zone aged by no more than its active file list since (<c>refault_distance &lt;=
/// NR_ACTIVE_FILE</c>: a page read back at once qualifies even with no active file page), WORKINGSET_ACTIVATE, and the
/// page goes to the active list and ages its zone. The shadow-node shrinker (WORKINGSET_NODERECLAIM) is not modelled.
/// </summary>
internal sealed class Workingset(Node node, PageTable pages) : IWorkingset, ISnapshotState
{
    /// <summary>ZONES_SHIFT on x86-64 (four zones): the zone's bits below the age in a shadow entry.</summary>
    private const int ZonesShift = 2;

    /// <summary>Each zone's <c>zone-&gt;inactive_age</c>.</summary>
    private readonly long[] _inactiveAge = new long[node.Zones.Count];

    /// <summary><c>zone-&gt;inactive_age</c>.</summary>
    public long InactiveAge(Zone zone) => _inactiveAge[zone.Index];

    /// <summary>workingset_eviction, called by __remove_mapping for a page-cache page only (<c>page_is_file_cache</c>).</summary>
    public long Eviction(int page)
    {
        if (pages.Test(page, PG.SwapBacked)) return 0;
        var zone = node.ZoneOf(page);
        long eviction = ++_inactiveAge[zone.Index];
        return eviction << ZonesShift | (long)zone.Index;
    }

    /// <summary>add_to_page_cache_lru's <c>workingset_refault</c> and, when it says so, SetPageActive and workingset_activation.</summary>
    public void Refault(int page, long shadow)
    {
        var zone = node.Zones[(int)(shadow & ((1 << ZonesShift) - 1))];
        long refaultDistance = _inactiveAge[zone.Index] - (shadow >> ZonesShift);
        zone.Stat.Add((int)ZoneStat.WorkingsetRefault, 1);
        if (refaultDistance > zone.Stat[(int)ZoneStat.NrActiveFile]) return;
        zone.Stat.Add((int)ZoneStat.WorkingsetActivate, 1);
        pages.Set(page, PG.Active);
        Activation(page);
    }

    /// <summary>workingset_activation, which v3.16's mark_page_accessed calls for a page-cache page only.</summary>
    public void Activation(int page)
    {
        if (!pages.Test(page, PG.SwapBacked)) _inactiveAge[node.ZoneOf(page).Index]++;
    }

    public object Save() => _inactiveAge.Clone();

    public void Restore(object saved) => ((long[])saved).CopyTo(_inactiveAge, 0);
}
