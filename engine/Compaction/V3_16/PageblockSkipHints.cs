using System.Runtime.CompilerServices;
using BalloonScript.Engine.Migrate;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>The pageblock skip hints of v3.16 mm/compaction.c, as both scanners use them on their compact_control.</summary>
internal static class PageblockSkipHints
{
    /// <summary>isolation_suitable(): the pageblock's skip bit, unless told to ignore it.</summary>
    // Inlined always: both scanners ask it of every pageblock they pass, thousands a failed direct compaction.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsolationSuitable(this CompactControl cc, int pfn) => cc.IgnoreSkipHint || !cc.Zone.PageblockSkip[cc.Zone.PageblockIndex(pfn)];

    /// <summary>
    /// update_pageblock_skip (v3.16): a pageblock a scanner went through without isolating anything gets
    /// its skip bit (unless <paramref name="setUnsuitable"/> is false), and the zone's cached scanner position
    /// moves past it, unless this run already isolated something from that scanner.
    /// </summary>
    public static void UpdatePageblockSkip(this CompactControl cc, int pfn, int nrIsolated, bool setUnsuitable, bool migrateScanner)
    {
        var zone = cc.Zone;
        if (cc.IgnoreSkipHint || pfn < 0 || nrIsolated > 0) return;
        if (setUnsuitable) zone.PageblockSkip[zone.PageblockIndex(pfn)] = true;
        if (migrateScanner)
        {
            if (cc.FinishedUpdateMigrate) return;
            var cached = zone.CompactCachedMigratePfn;
            if (pfn > cached[0]) cached[0] = pfn;
            if (cc.Mode != MigrateMode.Async && pfn > cached[1]) cached[1] = pfn;
        }
        else
        {
            if (cc.FinishedUpdateFree) return;
            if (pfn < zone.CompactCachedFreePfn) zone.CompactCachedFreePfn = pfn;
        }
    }
}
