using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V4_8;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Compaction.V4_8;

/// <summary>
/// The migrate scanner of v4.8 mm/compaction.c (TROVON v4.8 = 4.8.0; WindRiver-Labs/kernel-4.8.x = 4.8.18):
/// <c>isolate_migratepages</c> (the first suitable pageblock from cc-&gt;migrate_pfn), <c>isolate_migratepages_block</c>
/// and <c>isolate_migratepages_range</c>. Against v3.16: a non-LRU page with PAGE_MAPPING_MOVABLE that is not
/// PG_isolated is isolated through <c>isolate_movable_page</c>, lru_lock dropped first (whether it was held plays no
/// part); lru_lock is dropped every 32 PFNs whether or not anyone wants it; free blocks and compound pages are
/// jumped over whole; async direct compaction gives up an order-aligned block at its first failure; a scanned
/// pageblock gets its skip bit only if nothing was isolated from it (and the cached scanner position moves on
/// then too). NR_ISOLATED_* counts LRU pages only, at isolation (4.8.18; 4.8.0's acct_isolated counted the balloon
/// pages too, while they were isolated: docs/model.md). The lru_lock is the zone's here (the node's in v4.8).
/// </summary>
[KernelPart("migrate scanner", PartVersion.V4_8)]
internal sealed partial class MigrateScanner(PageTable pages, Node node, Lru lru, Scheduler scheduler, FatalSignal signal, VmStat vmstat,
    CompactLocking locking, IMigration migration, MovablePageIsolation movable) : IMigrateScanner
{
    /// <summary>
    /// isolate_migratepages (v4.8): from the pageblock of cc-&gt;migrate_pfn up to the free scanner, skip blocks not
    /// wholly in the zone, with their skip bit, or (async) not MOVABLE; scan the first other one. Abort if the scan
    /// gave up or contention was seen; else cc-&gt;migrate_pfn is where it stopped.
    /// </summary>
    [Preemptible]
    public IsolateMigrate IsolateMigratepages(Zone zone, CompactControl cc)
    {
        // sysctl_compact_unevictable_allowed = 1 (the default)
        var isolateMode = IsolateMode.Unevictable | (cc.Mode != MigrateMode.Sync ? IsolateMode.AsyncMigrate : IsolateMode.None);
        int lowPfn = cc.MigratePfn;
        int blockStart = Math.Max(PageblockStart(lowPfn), zone.StartPfn);
        int blockEnd = PageblockStart(lowPfn) + Zone.PageblockNrPages;
        for (; blockEnd <= cc.FreePfn; lowPfn = blockEnd, blockStart = blockEnd, blockEnd += Zone.PageblockNrPages)
        {
            if (lowPfn % (CompactControl.ClusterMax * Zone.PageblockNrPages) == 0 && locking.CompactShouldAbort(cc)) break;
            if (!PageblockInZone(zone, blockStart, blockEnd)) continue;
            if (!cc.IsolationSuitable(blockStart)) continue;
            if (cc.Mode == MigrateMode.Async && !V3_16.MigrateScanner.MigrateAsyncSuitable(zone.GetPageblockMigratetype(blockStart))) continue;
            lowPfn = IsolateMigratepagesBlock(cc, lowPfn, blockEnd, isolateMode);
            if (lowPfn == 0 || cc.Contended) return IsolateMigrate.Abort;
            break;
        }
        cc.MigratePfn = lowPfn;
        return cc.NrMigratepages > 0 ? IsolateMigrate.Success : IsolateMigrate.None;
    }

    /// <summary>
    /// compact_scanners_met (v4.8): pageblock numbers compared. <see cref="IsolateMigratepages"/> scans only whole
    /// pageblocks that end at or below free_pfn and otherwise leaves migrate_pfn where it was, so a free scanner inside
    /// the migrate scanner's pageblock (a zone ending mid-pageblock, say) has to count as met.
    /// </summary>
    public bool ScannersMet(CompactControl cc) => cc.ScannersMetInPageblock;

    /// <summary>
    /// isolate_migratepages_range (v4.8): pageblock by pageblock over [low, end) with ISOLATE_UNEVICTABLE, stopping once
    /// 32 pages are isolated. Returns the PFN reached, 0 on abort.
    /// </summary>
    [Preemptible]
    public int IsolateMigratepagesRange(CompactControl cc, int lowPfn, int endPfn)
    {
        int pfn = lowPfn;
        int blockStart = Math.Max(PageblockStart(pfn), cc.Zone.StartPfn);
        int blockEnd = PageblockStart(pfn) + Zone.PageblockNrPages;
        for (; pfn < endPfn; pfn = blockEnd, blockStart = blockEnd, blockEnd += Zone.PageblockNrPages)
        {
            blockEnd = Math.Min(blockEnd, endPfn);
            if (!PageblockInZone(cc.Zone, blockStart, blockEnd)) continue;
            pfn = IsolateMigratepagesBlock(cc, pfn, blockEnd, IsolateMode.Unevictable);
            if (pfn == 0 || cc.NrMigratepages == CompactControl.ClusterMax) break;
        }
        return pfn;
    }

    /// <summary>
    /// isolate_migratepages_block (4.8.18). Returns the PFN to continue from, or 0 to abort (async with too many pages
    /// isolated, or need_resched in async mode). Each lockless read of a page's state is a preemption point.
    /// </summary>
    [Preemptible]
    private int IsolateMigratepagesBlock(CompactControl cc, int lowPfn, int endPfn, IsolateMode isolateMode)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_migratepages_block");
        var zone = cc.Zone;
        var lruLock = zone.LruLock;
        int nrScanned = 0, nrIsolated = 0, validPage = -1, nextSkipPfn = 0;
        bool locked = false, skipOnFailure = false;

        if (!locking.ThrottleTooManyIsolated(cc, this, static s => s.TooManyIsolated(), static s => s.Isolated())) return 0;
        if (locking.CompactShouldAbort(cc)) return 0;
        if (cc.DirectCompaction && cc.Mode == MigrateMode.Async)
        {
            skipOnFailure = true;
            nextSkipPfn = BlockEndPfn(lowPfn, cc.Order);
        }

        for (; lowPfn < endPfn; lowPfn++)
        {
            if (skipOnFailure && lowPfn >= nextSkipPfn)
            {
                if (nrIsolated > 0) break;
                nextSkipPfn = BlockEndPfn(lowPfn, cc.Order);
            }
            if (lowPfn % CompactControl.ClusterMax == 0 && CompactUnlockShouldAbort(lruLock, ref locked, cc)) break;
            if (!zone.Spans(lowPfn)) goto isolateFail;
            nrScanned++;
            if (validPage < 0) validPage = lowPfn;

            scheduler.Preempt("isolate_migratepages_block: PageBuddy");
            if (pages.PageBuddy(lowPfn))
            {
                int freepageOrder = pages.PageOrder(lowPfn); // page_order_unsafe
                if (freepageOrder > 0 && freepageOrder < Zone.MaxOrder) lowPfn += (1 << freepageOrder) - 1;
                continue;
            }
            scheduler.Preempt("isolate_migratepages_block: PageCompound");
            if (PageCompound(lowPfn))
            {
                lowPfn += (1 << CompoundOrder(lowPfn)) - 1;
                goto isolateFail;
            }
            scheduler.Preempt("isolate_migratepages_block: PageLRU");
            if (!pages.PageLru(lowPfn))
            {
                scheduler.Preempt("isolate_migratepages_block: __PageMovable");
                if (pages.PageMovableUnlocked(lowPfn) && !pages.PageIsolated(lowPfn))
                {
                    if (locked)
                    {
                        lruLock.Unlock();
                        locked = false;
                    }
                    if (movable.IsolateMovablePage(lowPfn, isolateMode)) goto isolateSuccess;
                }
                goto isolateFail;
            }
            scheduler.Preempt("isolate_migratepages_block: page_count");
            // Pinned anonymous page: more references than mappings; migration would fail.
            if (Rmap.PageMapping(pages, lowPfn) == 0 && pages.Count[lowPfn] > pages.MapCount[lowPfn] + 1) goto isolateFail;
            if (!locked)
            {
                if (!(locked = CompactTrylockIrqsave(lruLock, cc))) break;
                if (!pages.PageLru(lowPfn)) goto isolateFail;
                if (PageCompound(lowPfn))
                {
                    lowPfn += (1 << CompoundOrder(lowPfn)) - 1;
                    goto isolateFail;
                }
            }
            if (lru.IsolateLruPageLocked(lowPfn, isolateMode) != 0) goto isolateFail;
            lru.DelPageFromLruList(zone, lowPfn, lru.LruListOf(lowPfn));
            lru.ModIsolated(lowPfn, +1);

        isolateSuccess:
            nrIsolated++;
            if (cc.AddMigratePage(lowPfn))
            {
                ++lowPfn;
                break;
            }
            continue;

        isolateFail:
            if (!skipOnFailure) continue;
            if (nrIsolated > 0)
            {
                if (locked)
                {
                    lruLock.Unlock();
                    locked = false;
                }
                migration.PutbackMovablePages(cc.MigratePages);
                cc.NrMigratepages = 0;
                nrIsolated = 0;
            }
            if (lowPfn < nextSkipPfn)
            {
                lowPfn = nextSkipPfn - 1;
                nextSkipPfn += 1 << cc.Order;
            }
        }

        if (lowPfn > endPfn) lowPfn = endPfn;
        if (locked) lruLock.Unlock();
        if (lowPfn == endPfn) UpdatePageblockSkip(cc, validPage, nrIsolated);
        vmstat.Count(VmEvent.CompactMigrateScanned, nrScanned);
        if (nrIsolated > 0) vmstat.Count(VmEvent.CompactIsolated, nrIsolated);
        return lowPfn;
    }

    /// <summary>
    /// compact_unlock_should_abort (v4.8), every 32 PFNs: drop lru_lock if held, whoever wants it; a fatal signal
    /// aborts (contended); then as compact_should_abort: on need_resched() async compaction gives up (contended), sync
    /// compaction reschedules.
    /// </summary>
    private bool CompactUnlockShouldAbort(SimLock lockObj, ref bool locked, CompactControl cc)
    {
        if (locked)
        {
            lockObj.Unlock();
            locked = false;
        }
        if (signal.Pending)
        {
            cc.Contended = true;
            return true;
        }
        return locking.CompactShouldAbort(cc);
    }

    /// <summary>compact_trylock_irqsave (v4.8): async compaction only tries (contended if it cannot), sync waits.</summary>
    [Preemptible]
    private static bool CompactTrylockIrqsave(SimLock lockObj, CompactControl cc)
    {
        if (cc.Mode != MigrateMode.Async)
        {
            lockObj.Lock();
            return true;
        }
        if (lockObj.TryLock()) return true;
        cc.Contended = true;
        return false;
    }

    /// <summary>
    /// update_pageblock_skip for the migrate scanner (v4.8): a pageblock scanned without isolating anything gets its
    /// skip bit, and the zone's cached migrate position moves past it (the sync one only for a sync scan).
    /// </summary>
    private static void UpdatePageblockSkip(CompactControl cc, int pfn, int nrIsolated)
    {
        var zone = cc.Zone;
        if (cc.IgnoreSkipHint || pfn < 0 || nrIsolated > 0) return;
        zone.PageblockSkip[zone.PageblockIndex(pfn)] = true;
        var cached = zone.CompactCachedMigratePfn;
        if (pfn > cached[0]) cached[0] = pfn;
        if (cc.Mode != MigrateMode.Async && pfn > cached[1]) cached[1] = pfn;
    }

    /// <summary>too_many_isolated (compaction's, v4.8): the node's isolated anon+file above half its LRU pages.</summary>
    private bool TooManyIsolated()
    {
        long lruPages = 0;
        foreach (var zone in node.Zones)
            lruPages += zone.Stat[(int)ZoneStat.NrInactiveFile] + zone.Stat[(int)ZoneStat.NrInactiveAnon]
                        + zone.Stat[(int)ZoneStat.NrActiveFile] + zone.Stat[(int)ZoneStat.NrActiveAnon];
        return Isolated() > lruPages / 2;
    }

    private long Isolated()
    {
        long isolated = 0;
        foreach (var zone in node.Zones) isolated += zone.Stat[(int)ZoneStat.NrIsolatedFile] + zone.Stat[(int)ZoneStat.NrIsolatedAnon];
        return isolated;
    }

    /// <summary>PageCompound: a compound head or tail page.</summary>
    private bool PageCompound(int pfn) => pages.Test(pfn, PG.Head) || pages.Test(pfn, PG.Tail);

    /// <summary>compound_order(): the order of a compound head (kept in its first tail page), 0 for a tail page.</summary>
    private int CompoundOrder(int pfn) => pages.Test(pfn, PG.Head) ? pages.Private[pfn + 1] : 0;

    /// <summary>pageblock_pfn_to_page: the block [start, end) lies wholly in the zone.</summary>
    private static bool PageblockInZone(Zone zone, int start, int end) => zone.Spans(start) && zone.Spans(end - 1);

    private static int PageblockStart(int pfn) => pfn & ~(Zone.PageblockNrPages - 1);

    /// <summary>block_end_pfn(pfn, order): the end of the 2^order-aligned block holding <paramref name="pfn"/>.</summary>
    private static int BlockEndPfn(int pfn, int order) => (pfn & ~((1 << order) - 1)) + (1 << order);
}
