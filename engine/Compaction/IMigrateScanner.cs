using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Compaction;

/// <summary>What isolate_migratepages reports to compact_zone (isolate_migrate_t).</summary>
internal enum IsolateMigrate
{
    Abort,
    None,
    Success,
}

/// <summary>
/// The migrate scanner of mm/compaction.c, as compact_zone and the range scans use it: <c>isolate_migratepages</c>
/// (the next block to scan from cc-&gt;migrate_pfn) and <c>isolate_migratepages_range</c>. v3.16
/// (<see cref="V3_16.MigrateScanner"/>) has compaction's balloon branch; v4.8 (<see cref="V4_8.MigrateScanner"/>) the
/// generic non-LRU movable page branch, independent of lru_lock.
/// </summary>
internal partial interface IMigrateScanner
{
    /// <summary>isolate_migratepages: scan from cc-&gt;migrate_pfn, isolating onto cc-&gt;migratepages; cc-&gt;migrate_pfn moves on.</summary>
    [Preemptible]
    IsolateMigrate IsolateMigratepages(Zone zone, CompactControl cc);

    /// <summary>isolate_migratepages_range: the scanner over [low, end) onto cc's migrate list; the PFN reached, 0 on abort.</summary>
    [Preemptible]
    int IsolateMigratepagesRange(CompactControl cc, int lowPfn, int endPfn);

    /// <summary>
    /// compact_zone's next turns that would each only pass over a pageblock, taken at once; the pageblocks passed over.
    /// Only v3.16's isolate_migratepages takes one pageblock a turn (<see cref="V3_16.MigrateScanner"/>); later ones pass
    /// over unsuitable pageblocks in their own loop, within one turn (none here).
    /// </summary>
    int PassOverUnsuitablePageblocks(Zone zone, CompactControl cc) => 0;

    /// <summary>
    /// Whether compact_finished sees the scanners met, by the test of this scanner's version: it has to match how
    /// <see cref="IsolateMigratepages"/> moves, or compact_zone can loop with neither scanner moving.
    /// </summary>
    bool ScannersMet(CompactControl cc);
}
