namespace BalloonScript.Engine.Vmstat;

/// <summary>The modelled subset of <c>enum zone_stat_item</c> (v3.18 mmzone.h), in kernel order.</summary>
internal enum ZoneStat
{
    NrFreePages,
    NrInactiveAnon,
    NrActiveAnon,
    NrInactiveFile,
    NrActiveFile,
    NrUnevictable,
    NrAnonPages,
    NrFilePages,
    NrSlabUnreclaimable,
    NrIsolatedAnon,
    NrIsolatedFile,
    Count,
}

internal static class ZoneStats
{
    /// <summary>/proc/vmstat names (vmstat_text).</summary>
    public static readonly string[] Names =
    [
        "nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
        "nr_unevictable", "nr_anon_pages", "nr_file_pages", "nr_slab_unreclaimable", "nr_isolated_anon",
        "nr_isolated_file",
    ];
}
