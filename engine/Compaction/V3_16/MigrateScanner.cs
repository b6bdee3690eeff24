using System.Runtime.CompilerServices;
using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// The migrate scanner of v3.16 mm/compaction.c: <c>isolate_migratepages</c> (at most one pageblock per call)
/// and <c>isolate_migratepages_range</c>, which walks PFNs upwards isolating LRU pages (and, through the
/// design's hook, balloon pages) onto <c>cc-&gt;migratepages</c>, taking <c>lru_lock</c> lazily and dropping it at
/// every 32-PFN boundary when another CPU wants it or a reschedule is due.
/// </summary>
[KernelPart("migrate scanner", PartVersion.V3_16)]
internal sealed partial class MigrateScanner(PageTable pages, PageLists lists, Lru lru, Scheduler scheduler, FatalSignal signal, VmStat vmstat,
    CompactLocking locking, IScannerIsolation balloon, SimClock clock) : IMigrateScanner
{
    /// <summary>
    /// isolate_migratepages (v3.16): scan from cc-&gt;migrate_pfn to the end of its pageblock, unless that
    /// passes the free scanner. Abort if the range scan gave up or contention was seen.
    /// </summary>
    [Preemptible]
    public IsolateMigrate IsolateMigratepages(Zone zone, CompactControl cc)
    {
        int lowPfn = Math.Max(cc.MigratePfn, zone.StartPfn);
        int endPfn = AlignUp(lowPfn + 1, Zone.PageblockNrPages);
        if (endPfn > cc.FreePfn || !zone.Spans(lowPfn))
        {
            cc.MigratePfn = endPfn;
            return IsolateMigrate.None;
        }
        lowPfn = IsolateMigratepagesRange(zone, cc, lowPfn, endPfn, unevictable: false);
        if (lowPfn == 0 || cc.Contended) return IsolateMigrate.Abort;
        cc.MigratePfn = lowPfn;
        return IsolateMigrate.Success;
    }

    /// <summary>
    /// compact_zone's turns (v3.16) from here on while each would only pass over a pageblock: one skip-marked or, in async
    /// mode, not MOVABLE, whole below the free scanner. Such a turn of <see cref="IsolateMigratepages"/> isolates nothing,
    /// passes no preemption point and changes nothing compact_finished reads but the migrate PFN, so the turns are
    /// taken at once: what their update_pageblock_skip calls leave, compact_migrate_scanned counted once a block, the
    /// accesses of one turn (the throttle's and acct_isolated's), the migrate PFN past the last block. None when the turn
    /// would throttle, reschedule or scan pages (then <see cref="IsolateMigratepages"/> takes it). A Ctrl-C arriving during
    /// the run is seen by the compact_finished after it, microseconds later. A direct compaction that fails starts from
    /// the zone start again and passes over every block it marked: thousands of turns a THP fault.
    /// Returns the pageblocks passed over.
    /// </summary>
    public int PassOverUnsuitablePageblocks(Zone zone, CompactControl cc)
    {
        int pfn = cc.MigratePfn;
        // A scan that starts in pageblock 0, or within a block, checks its first block differently: left to the turn.
        if (pfn < zone.StartPfn || (pfn & (Zone.PageblockNrPages - 1)) != 0 || pfn >> Zone.PageblockOrder == 0) return 0;
        if (!PassedOver(zone, cc, pfn, out bool setUnsuitable)) return 0;
        if (TooManyIsolated(zone) || clock.NeedResched()) return 0;
        int blocks = 1;
        for (; PassedOver(zone, cc, pfn + Zone.PageblockNrPages, out bool next); blocks++) (pfn, setUnsuitable) = (pfn + Zone.PageblockNrPages, next);
        // The turns' update_pageblock_skip: a block passed over for its skip bit has it set already, and the cached
        // migrate position only moves up, so the last block's update leaves what all of them would.
        cc.UpdatePageblockSkip(pfn, nrIsolated: 0, setUnsuitable, migrateScanner: true);
        AcctIsolated(zone, cc);
        vmstat.Count(VmEvent.CompactMigrateScanned, blocks);
        cc.MigratePfn = pfn + Zone.PageblockNrPages;
        return blocks;
    }

    /// <summary>Whether a turn from <paramref name="pfn"/> (a pageblock start) would pass over its block; and whether it would mark it skipped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PassedOver(Zone zone, CompactControl cc, int pfn, out bool setUnsuitable)
    {
        setUnsuitable = true;
        return pfn + Zone.PageblockNrPages <= cc.FreePfn && zone.Spans(pfn) && PageblockPassedOver(zone, cc, pfn, out setUnsuitable);
    }

    /// <summary>
    /// isolate_migratepages_range's look at a pageblock as the scan enters it (v3.16): passed over if isolation recently
    /// failed there (its skip bit), or in async mode if it is not MOVABLE, which leaves it unmarked
    /// (<paramref name="setUnsuitable"/> false: set_unsuitable for update_pageblock_skip).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PageblockPassedOver(Zone zone, CompactControl cc, int pfn, out bool setUnsuitable)
    {
        setUnsuitable = true;
        if (!cc.IsolationSuitable(pfn)) return true;
        setUnsuitable = false;
        return cc.Mode == MigrateMode.Async && !MigrateAsyncSuitable(zone.GetPageblockMigratetype(pfn));
    }

    [Preemptible]
    public int IsolateMigratepagesRange(CompactControl cc, int lowPfn, int endPfn) =>
        IsolateMigratepagesRange(cc.Zone, cc, lowPfn, endPfn, unevictable: false);

    /// <summary>compact_finished (v3.16): the scanners met when free_pfn &lt;= migrate_pfn (this scanner moves to the end of
    /// its pageblock, or past the free scanner, at every call).</summary>
    public bool ScannersMet(CompactControl cc) => cc.FreePfn <= cc.MigratePfn;

    /// <summary>
    /// isolate_migratepages_range (v3.16). Returns the PFN to continue from, or 0 to abort (async with too
    /// many pages isolated, a fatal signal while waiting for fewer, or need_resched in async mode); a fatal
    /// signal also stops the scan where the lock is checked. Each lockless read of a page's identity is a
    /// preemption point.
    /// </summary>
    [Preemptible]
    public int IsolateMigratepagesRange(Zone zone, CompactControl cc, int lowPfn, int endPfn, bool unevictable)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_migratepages_range");
        int lastPageblockNr = 0; // as in the kernel: a scan starting in pageblock 0 skips the first-block checks
        int nrScanned = 0, nrIsolated = 0, validPage = -1;
        bool locked = false, setUnsuitable = true;
        var mode = (cc.Mode == MigrateMode.Async ? IsolateMode.AsyncMigrate : IsolateMode.None)
                   | (unevictable ? IsolateMode.Unevictable : IsolateMode.None);
        var lruLock = zone.LruLock;

        if (!locking.ThrottleTooManyIsolated(cc, zone, static z => TooManyIsolated(z), static z => Isolated(z))) return 0;
        if (locking.CompactShouldAbort(cc)) return 0;

        for (; lowPfn < endPfn; lowPfn++)
        {
            if (locked && lowPfn % CompactControl.ClusterMax == 0 && locking.ShouldReleaseLock(lruLock))
            {
                lruLock.Unlock();
                locked = false;
                scheduler.Preempt("isolate_migratepages_range: lru_lock released at pfn ", lowPfn);
            }
            nrScanned++;
            if (!zone.Spans(lowPfn)) continue;
            if (validPage < 0) validPage = lowPfn;

            int pageblockNr = lowPfn >> Zone.PageblockOrder;
            if (lastPageblockNr != pageblockNr)
            {
                lastPageblockNr = pageblockNr;
                if (PageblockPassedOver(zone, cc, lowPfn, out bool marked))
                {
                    setUnsuitable &= marked;
                    lowPfn = NextPageblock(lowPfn);
                    continue;
                }
            }

            scheduler.Preempt("isolate_migratepages_range: PageBuddy");
            if (pages.PageBuddy(lowPfn)) continue;
            scheduler.Preempt("isolate_migratepages_range: PageLRU");
            if (!pages.PageLru(lowPfn))
            {
                if (balloon.IsolateFromScanner(lowPfn, locked)) goto isolateSuccess;
                continue;
            }
            scheduler.Preempt("isolate_migratepages_range: PageTransHuge");
            if (pages.Test(lowPfn, PG.Head))
            {
                if (!locked)
                {
                    lowPfn = NextPageblock(lowPfn);
                    continue;
                }
                lowPfn += (1 << CompoundOrder(lowPfn)) - 1;
                continue;
            }
            scheduler.Preempt("isolate_migratepages_range: page_count");
            // Pinned anonymous page: more references than mappings; migration would fail.
            if (Rmap.PageMapping(pages, lowPfn) == 0 && pages.Count[lowPfn] > pages.MapCount[lowPfn] + 1) continue;

            locked = locking.CompactChecklockIrqsave(lruLock, locked, cc);
            if (!locked || signal.Pending) break;
            if (!pages.PageLru(lowPfn)) continue;
            if (pages.Test(lowPfn, PG.Head))
            {
                lowPfn += (1 << CompoundOrder(lowPfn)) - 1;
                continue;
            }
            if (lru.IsolateLruPageLocked(lowPfn, mode) != 0) continue;
            lru.DelPageFromLruList(zone, lowPfn, lru.LruListOf(lowPfn));

        isolateSuccess:
            cc.FinishedUpdateMigrate = true;
            nrIsolated++;
            if (cc.AddMigratePage(lowPfn))
            {
                ++lowPfn;
                break;
            }
        }

        AcctIsolated(zone, cc);
        if (locked) lruLock.Unlock();
        if (lowPfn == endPfn) cc.UpdatePageblockSkip(validPage, nrIsolated, setUnsuitable, migrateScanner: true);
        vmstat.Count(VmEvent.CompactMigrateScanned, nrScanned);
        if (nrIsolated > 0) vmstat.Count(VmEvent.CompactIsolated, nrIsolated);
        return lowPfn;
    }

    /// <summary>too_many_isolated (compaction's): isolated anon+file &gt; half of the zone's LRU pages.</summary>
    public static bool TooManyIsolated(Zone zone)
    {
        var s = zone.Stat;
        long inactive = s[(int)ZoneStat.NrInactiveFile] + s[(int)ZoneStat.NrInactiveAnon];
        long active = s[(int)ZoneStat.NrActiveFile] + s[(int)ZoneStat.NrActiveAnon];
        return Isolated(zone) > (inactive + active) / 2;
    }

    private static long Isolated(Zone zone) =>
        zone.Stat[(int)ZoneStat.NrIsolatedFile] + zone.Stat[(int)ZoneStat.NrIsolatedAnon];

    /// <summary>migrate_async_suitable: MOVABLE (or CMA, not modelled) pageblocks only.</summary>
    public static bool MigrateAsyncSuitable(int migratetype) => migratetype == MigrateType.Movable;

    /// <summary>acct_isolated: count cc-&gt;migratepages by page_is_file_cache into NR_ISOLATED_ANON/FILE.</summary>
    private void AcctIsolated(Zone zone, CompactControl cc)
    {
        int anon = 0, file = 0;
        foreach (int page in lists.Entries(cc.MigratePages, "acct_isolated"))
        {
            if (lru.PageIsFileCache(page)) file++;
            else anon++;
        }
        zone.Stat.Add((int)ZoneStat.NrIsolatedAnon, anon);
        zone.Stat.Add((int)ZoneStat.NrIsolatedFile, file);
    }

    /// <summary>compound_order() of a compound head (kept in the first tail page, as set_compound_order does).</summary>
    private int CompoundOrder(int head) => pages.Private[head + 1];

    /// <summary>The next_pageblock label: continue at the start of the following pageblock.</summary>
    private static int NextPageblock(int pfn) => AlignUp(pfn + 1, Zone.PageblockNrPages) - 1;

    public static int AlignUp(int x, int a) => (x + a - 1) & ~(a - 1);
}
