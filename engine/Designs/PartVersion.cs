namespace BalloonScript.Engine.Designs;

/// <summary>
/// The kernel version a part's implementation follows: a release, a commit, or a stable fix on top of one.
/// <see cref="KernelPartAttribute"/> names it on each implementation; <see cref="DesignParts"/> names it per design.
/// </summary>
public enum PartVersion
{
    /// <summary>Not modelled in this design: the part is a stand-in that documents what the kernel would do.</summary>
    NotModelled,
    /// <summary>The design's kernel has no such part: it came in a later version (e.g. the balloon's OOM notifier, v3.19).</summary>
    None,
    /// <summary>Linux v3.16 (the last release before the redesign was merged; v3.8–v3.17 for the balloon).</summary>
    V3_16,
    /// <summary>Linux v3.18: d6d86c0 "mm/balloon_compaction: redesign ballooned pages management" and its siblings.</summary>
    V3_18,
    /// <summary>Linux v4.5: Minchan Kim's December 2015 balloon race fixes (locked dequeue walk; f68b992 release under balloon_lock).</summary>
    V4_5,
    /// <summary>The 2019 stable fix "mm: migrate: don't rely on __PageMovable() of newpage after unlocking it" (3.12–4.7 stable).</summary>
    Stable2019,
    /// <summary>Linux v4.8: non-LRU movable pages (bda807d44454) and the balloon on them (b1123ea6d3b3); kcompactd (v4.6).</summary>
    V4_8,
    /// <summary>Linux 6.1 (Debian 12 "bookworm"); the mm core as read from a 6.1.78 tree (docs/kernel/v6.1.md).</summary>
    V6_1,
}

/// <summary>How <see cref="PartVersion"/> values are written in tables and messages.</summary>
public static class PartVersions
{
    public static string Display(this PartVersion version) => version switch
    {
        PartVersion.NotModelled => "not modelled",
        PartVersion.None => "none",
        PartVersion.V3_16 => "v3.16",
        PartVersion.V3_18 => "v3.18",
        PartVersion.V4_5 => "v4.5",
        PartVersion.Stable2019 => "2019 stable fix",
        PartVersion.V4_8 => "v4.8",
        PartVersion.V6_1 => "v6.1",
        _ => throw new ArgumentOutOfRangeException(nameof(version)),
    };
}
