using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// zone_reclaimable_pages and zone_reclaimable (v3.16 mm/vmscan.c): what reclaim could give back from a zone, and
/// whether it has not yet given up on it. /proc/zoneinfo prints the second as <c>all_unreclaimable</c>.
/// </summary>
internal sealed class ZoneReclaimable(SwapArea swap)
{
    /// <summary>zone_reclaimable_pages: the file LRU, plus the anon LRU while free swap slots exist.</summary>
    public long Pages(Zone zone)
    {
        var s = zone.Stat;
        long n = s[(int)ZoneStat.NrActiveFile] + s[(int)ZoneStat.NrInactiveFile];
        if (swap.NrSwapPages > 0) n += s[(int)ZoneStat.NrActiveAnon] + s[(int)ZoneStat.NrInactiveAnon];
        return n;
    }

    /// <summary>zone_reclaimable: reclaim has not yet scanned six times what the zone could give back.</summary>
    public bool Reclaimable(Zone zone) => zone.PagesScanned < Pages(zone) * 6;
}
