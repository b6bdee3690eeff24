using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// The migrate scanner of 6.1 mm/compaction.c (docs/kernel/v6.1.md §3.4–3.5): <c>isolate_migratepages</c> takes a
/// pageblock at a time, starting where <c>fast_find_migrateblock</c> points for THP-sized requests, skipping blocks with
/// the skip bit or (async direct compaction) of the wrong type; <c>isolate_migratepages_block</c> isolates LRU pages
/// (taking the LRU lock lazily, dropping it every 32 PFNs, and claiming the block with <c>test_and_set_skip</c> on the
/// first lock) and non-LRU movable pages through <c>isolate_movable_page</c> (<see cref="IMovablePageIsolation"/>).
/// Each lockless read of a page's state is a preemption point.
/// </summary>
[KernelPart("migrate scanner", PartVersion.V6_1)]
internal sealed partial class MigrateScanner(PageTable pages, PageLists lists, Node node, Lru lru, MappingTable mappings, PageRefs refs,
    PageLock pageLock, Scheduler scheduler, FatalSignal signal, SimClock clock, VmStat vmstat, CompactLocking locking, PageblockSkip skip,
    IMovablePageIsolation movable, IMigration migration, Reclaim.V6_1.NodeReclaimState? reclaimState = null) : IMigrateScanner
{
    public const int EAgain = -11, EIntr = -4;

    /// <summary>
    /// reclaim_throttle(VMSCAN_THROTTLE_ISOLATED) rounds in a row, with no CPU changing the isolated counts, after which a
    /// sync scanner gives up as if a fatal signal had arrived (-EINTR); the kernel waits without bound.
    /// </summary>
    public const int ThrottleLimit = 100;

    /// <summary>
    /// isolate_migratepages (6.1): from fast_find_migrateblock's PFN, whole pageblocks while they end below the free
    /// scanner; a block rejected by its skip bit (unless the fast search just picked it) is passed, one that is no
    /// suitable migration source is passed with the cached position moved past it; the first other block is scanned and
    /// the walk stops.
    /// </summary>
    [Preemptible]
    public IsolateMigrate IsolateMigratepages(CompactControl cc)
    {
        var zone = cc.Zone;
        var mode = IsolateMode.Unevictable | (cc.Mode != MigrateMode.Sync ? IsolateMode.AsyncMigrate : IsolateMode.None);
        int lowPfn = FastFindMigrateblock(cc);
        int blockStart = Math.Max(PageblockSkip.PageblockStartPfn(lowPfn), zone.StartPfn);
        bool fastFindBlock = lowPfn != cc.MigratePfn && cc.FastSearchFail == 0;
        int blockEnd = PageblockSkip.PageblockEndPfn(lowPfn);
        for (; blockEnd <= cc.FreePfn;
             fastFindBlock = false, cc.MigratePfn = lowPfn = blockEnd, blockStart = blockEnd, blockEnd += Zone.PageblockNrPages)
        {
            if (lowPfn % (CompactControl.ClusterMax * Zone.PageblockNrPages) == 0) clock.CondResched();
            if (blockEnd > zone.EndPfn) continue; // pageblock_pfn_to_page: the block leaves the zone
            if (PageblockSkip.PageblockAligned(lowPfn) && !fastFindBlock && !PageblockSkip.IsolationSuitable(cc, blockStart)) continue;
            if (!SuitableMigrationSource(cc, blockStart))
            {
                PageblockSkip.UpdateCachedMigrate(cc, blockEnd);
                continue;
            }
            if (IsolateMigratepagesBlock(cc, lowPfn, blockEnd, mode) != 0) return IsolateMigrate.Abort;
            break;
        }
        return cc.NrMigratepages > 0 ? IsolateMigrate.Success : IsolateMigrate.None;
    }

    /// <summary>
    /// suitable_migration_source (6.1): never a block of a huge compound page; any block unless this is async direct
    /// compaction, which takes only blocks of the request's type (MOVABLE requests: MOVABLE or CMA).
    /// </summary>
    private bool SuitableMigrationSource(CompactControl cc, int pfn)
    {
        if (skip.PageblockSkipPersistent(pfn)) return false;
        if (cc.Mode != MigrateMode.Async || !cc.DirectCompaction) return true;
        int blockMt = cc.Zone.GetPageblockMigratetype(pfn);
        return cc.Migratetype == MigrateType.Movable ? MigrateType.IsMovable(blockMt) : blockMt == cc.Migratetype;
    }

    /// <summary>
    /// freelist_scan_limit: (COMPACT_CLUSTER_MAX &gt;&gt; min(BITS_PER_LONG − 1, fast_search_fail)) + 1, shifting an unsigned
    /// long: 1 from 6 failures on (a C# int shift would take the count modulo 32 and give 33 again at 32).
    /// </summary>
    public static int FreelistScanLimit(CompactControl cc) => (int)((long)CompactControl.ClusterMax >> Math.Min(63, cc.FastSearchFail)) + 1;

    /// <summary>
    /// fast_find_migrateblock (6.1): for orders above PAGE_ALLOC_COSTLY_ORDER (and only MOVABLE direct requests),
    /// starting a block, look at the heads of the MOVABLE free lists from order−1 down to 3 for a free block in the first
    /// half (or eighth, after the zone's first block) of the scan space whose pageblock is not skip-marked; that
    /// pageblock becomes the start, is marked skip, and its list is rotated so the block is last. Otherwise count a
    /// failure and restart from the lowest such block found earlier (fast_start_pfn).
    /// </summary>
    [Preemptible]
    private int FastFindMigrateblock(CompactControl cc)
    {
        int limit = FreelistScanLimit(cc), nrScanned = 0;
        int pfn = cc.MigratePfn;
        var zone = cc.Zone;
        if (cc.IgnoreSkipHint) return pfn;
        if (pfn != zone.StartPfn && pfn != PageblockSkip.PageblockStartPfn(pfn)) return pfn;
        if (cc.Order <= PageAlloc.V6_1.PageAllocator.CostlyOrder) return pfn;
        if (cc.DirectCompaction && cc.Migratetype != MigrateType.Movable) return pfn;
        int distance = (cc.FreePfn - cc.MigratePfn) >> 1;
        if (cc.MigratePfn != zone.StartPfn) distance >>= 2;
        int highPfn = PageblockSkip.PageblockStartPfn(cc.MigratePfn + distance);
        bool found = false;
        for (int order = cc.Order - 1; order >= PageAlloc.V6_1.PageAllocator.CostlyOrder && !found && nrScanned < limit; order--)
        {
            if (zone.NrFree[order] == 0) continue;
            zone.Lock.Lock();
            int freelist = zone.FreeList(order, MigrateType.Movable);
            for (int freepage = lists.Next(freelist); freepage != freelist; freepage = lists.Next(freepage))
            {
                if (nrScanned++ >= limit)
                {
                    MoveFreelistTail(freelist, freepage);
                    break;
                }
                if (freepage >= highPfn || PageblockSkip.GetSkip(zone, freepage)) continue;
                MoveFreelistTail(freelist, freepage);
                UpdateFastStartPfn(cc, freepage);
                pfn = Math.Max(PageblockSkip.PageblockStartPfn(freepage), zone.StartPfn);
                cc.FastSearchFail = 0;
                found = true;
                PageblockSkip.SetSkip(zone, freepage);
                break;
            }
            zone.Lock.Unlock();
        }
        cc.TotalMigrateScanned += nrScanned;
        if (!found)
        {
            cc.FastSearchFail++;
            pfn = ReinitMigratePfn(cc);
        }
        return pfn;
    }

    /// <summary>move_freelist_tail: the entries up to and including <paramref name="freepage"/> go to the list's tail (a later search starts after them).</summary>
    private void MoveFreelistTail(int freelist, int freepage) => lists.RotateToFront(lists.Next(freepage), freelist);

    /// <summary>update_fast_start_pfn: remember the lowest PFN a fast search found (unless already used).</summary>
    private static void UpdateFastStartPfn(CompactControl cc, int pfn)
    {
        if (cc.FastStartPfn == int.MaxValue) return;
        cc.FastStartPfn = cc.FastStartPfn == 0 ? pfn : Math.Min(cc.FastStartPfn, pfn);
    }

    /// <summary>reinit_migrate_pfn: restart the linear scan at fast_start_pfn once, if one was recorded.</summary>
    private static int ReinitMigratePfn(CompactControl cc)
    {
        if (cc.FastStartPfn is 0 or int.MaxValue) return cc.MigratePfn;
        cc.MigratePfn = cc.FastStartPfn;
        cc.FastStartPfn = int.MaxValue;
        return cc.MigratePfn;
    }

    /// <summary>
    /// isolate_migratepages_range (6.1, CMA's and the race scenarios' entry): block by block over [start, end), each with
    /// ISOLATE_UNEVICTABLE, stopping at an error or once COMPACT_CLUSTER_MAX pages are isolated. 0 or the error.
    /// </summary>
    [Preemptible]
    IsolateMigrate IMigrateScanner.IsolateMigratepages(Zone zone, Compaction.CompactControl cc) => IsolateMigratepages((CompactControl)cc);

    /// <summary>isolate_migratepages_range on a caller's compact_control: the PFN reached, 0 if it returned an error.</summary>
    [Preemptible]
    int IMigrateScanner.IsolateMigratepagesRange(Compaction.CompactControl cc, int lowPfn, int endPfn) =>
        IsolateMigratepagesRange((CompactControl)cc, lowPfn, endPfn) != 0 ? 0 : cc.MigratePfn;

    /// <summary>compact_scanners_met (6.1), as the 6.1 compact_zone tests it.</summary>
    bool IMigrateScanner.ScannersMet(Compaction.CompactControl cc) => cc.ScannersMetInPageblock;

    [Preemptible]
    public int IsolateMigratepagesRange(CompactControl cc, int startPfn, int endPfn)
    {
        int ret = 0;
        int blockEnd = PageblockSkip.PageblockEndPfn(startPfn);
        for (int pfn = startPfn; pfn < endPfn; pfn = blockEnd, blockEnd += Zone.PageblockNrPages)
        {
            int end = Math.Min(blockEnd, endPfn);
            if (!cc.Zone.Spans(pfn) || end > cc.Zone.EndPfn) continue;
            ret = IsolateMigratepagesBlock(cc, pfn, end, IsolateMode.Unevictable);
            if (ret != 0 || cc.NrMigratepages >= CompactControl.ClusterMax) break;
        }
        return ret;
    }

    /// <summary>
    /// isolate_migratepages_block (6.1): see the class comment and docs/kernel/v6.1.md §3.4. Returns 0, -EAGAIN (too
    /// many pages isolated) or -EINTR (a fatal signal, checked while throttled and every 32 PFNs: the compaction is then
    /// contended, and what was isolated stays for the caller to put back); <c>cc-&gt;migrate_pfn</c> is where the scan stopped.
    /// </summary>
    [Preemptible]
    public int IsolateMigratepagesBlock(CompactControl cc, int lowPfn, int endPfn, IsolateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_migratepages_block");
        var zone = cc.Zone;
        var lruLock = zone.LruLock;
        int nrScanned = 0, nrIsolated = 0, validPage = -1, page = -1, nextSkipPfn = 0, ret = 0;
        bool locked = false, skipOnFailure = false, skipUpdated = false, abort = false;
        cc.MigratePfn = lowPfn;

        for (long lastIsolated = -1, idle = 0; TooManyIsolated();)
        {
            if (cc.NrMigratepages > 0 || cc.Mode == MigrateMode.Async) return EAgain;
            long isolated = Isolated();
            if (isolated != lastIsolated) (lastIsolated, idle) = (isolated, 0);
            else if (++idle == ThrottleLimit) return EIntr;
            // reclaim_throttle(VMSCAN_THROTTLE_ISOLATED): kcompactd, a kthread, only reschedules; a user task sleeps HZ/50,
            // woken early by a too_many_isolated that finds the pages no longer too many (with reclaim left out of the
            // simulation there is no wait queue: the whole HZ/50).
            if (scheduler.Current.Flags.ReclaimThrottleExempt()) clock.CondResched();
            else if (reclaimState is not null) reclaimState.SleepThrottledIsolated(clock);
            else clock.ScheduleTimeout(Reclaim.V6_1.NodeReclaimState.IsolatedThrottleJiffies(clock), Reclaim.V6_1.NodeReclaimState.IsolatedThrottlePoint);
            if (signal.Pending) return EIntr;
        }
        clock.CondResched();
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
            if (lowPfn % CompactControl.ClusterMax == 0 && locking.CompactUnlockShouldAbort(lruLock, ref locked, cc))
            {
                ret = EIntr;
                goto fatalPending;
            }
            nrScanned++;
            page = lowPfn;
            if (validPage < 0 && PageblockSkip.PageblockAligned(lowPfn))
            {
                if (!PageblockSkip.IsolationSuitable(cc, lowPfn))
                {
                    lowPfn = endPfn;
                    page = -1;
                    abort = true;
                    break;
                }
                validPage = lowPfn;
            }

            scheduler.Preempt("isolate_migratepages_block: PageBuddy");
            if (pages.PageBuddy(lowPfn))
            {
                int freepageOrder = pages.PageOrder(lowPfn);
                if (freepageOrder > 0 && freepageOrder < Zone.MaxOrder) lowPfn += (1 << freepageOrder) - 1;
                continue;
            }
            if (pages.Test(lowPfn, PG.Head) || pages.Test(lowPfn, PG.Tail))
            {
                if (pages.Test(lowPfn, PG.Head)) lowPfn += (1 << pages.Private[lowPfn + 1]) - 1;
                goto isolateFail;
            }
            scheduler.Preempt("isolate_migratepages_block: PageLRU");
            if (!pages.PageLru(lowPfn))
            {
                if (movable.PageMovable(lowPfn) && !movable.PageIsolated(lowPfn))
                {
                    if (locked)
                    {
                        lruLock.Unlock();
                        locked = false;
                    }
                    if (movable.IsolateMovablePage(lowPfn, mode) == 0) goto isolateSuccess;
                }
                goto isolateFail;
            }
            scheduler.Preempt("isolate_migratepages_block: get_page_unless_zero");
            if (!refs.GetPageUnlessZero(lowPfn)) goto isolateFail;
            int mapping = Rmap.PageMapping(pages, lowPfn);
            // Pinned anonymous page: more references than mappings (and the one just taken); migration would fail.
            if (mapping == 0 && pages.Count[lowPfn] - 1 > pages.MapCount[lowPfn] + 1) goto isolateFailPut;
            if ((cc.GfpMask & Gfp.Fs) == 0 && mapping != 0) goto isolateFailPut;
            if (!pages.PageLru(lowPfn)) goto isolateFailPut;
            if ((mode & IsolateMode.Unevictable) == 0 && pages.Test(lowPfn, PG.Unevictable)) goto isolateFailPut;
            if ((mode & IsolateMode.AsyncMigrate) != 0 && pages.Test(lowPfn, PG.Writeback)) goto isolateFailPut;
            if ((mode & IsolateMode.AsyncMigrate) != 0 && pages.Test(lowPfn, PG.Dirty))
            {
                if (!pageLock.TryLock(lowPfn)) goto isolateFailPut;
                mapping = Rmap.PageMapping(pages, lowPfn);
                bool migrateDirty = mapping == 0 || mappings.MigratePage(mapping) != MigratePageOp.None;
                pageLock.Unlock(lowPfn);
                if (!migrateDirty) goto isolateFailPut;
            }
            scheduler.Preempt("isolate_migratepages_block: TestClearPageLRU");
            if (!pages.PageLru(lowPfn)) goto isolateFailPut;
            pages.Clear(lowPfn, PG.Lru);
            if (!locked)
            {
                locking.CompactLockIrqsave(lruLock, cc);
                locked = true;
                if (!skipUpdated)
                {
                    skipUpdated = true;
                    if (PageblockSkip.TestAndSetSkip(cc, lowPfn))
                    {
                        abort = true;
                        break;
                    }
                }
            }
            lru.DelPageFromLruList(zone, lowPfn, lru.LruListOf(lowPfn));
            zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + (lru.PageIsFileCache(lowPfn) ? 1 : 0), 1);

        isolateSuccess:
            lists.Add(lowPfn, cc.MigratePages);
            cc.NrMigratepages++;
            nrIsolated++;
            if (cc.NrMigratepages >= CompactControl.ClusterMax && !cc.Rescan && !cc.Contended)
            {
                ++lowPfn;
                break;
            }
            continue;

        isolateFailPut:
            if (locked)
            {
                lruLock.Unlock();
                locked = false;
            }
            lru.PutPage(lowPfn);

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

        if (!abort)
        {
            if (lowPfn > endPfn) lowPfn = endPfn;
            page = -1;
        }
        if (locked) lruLock.Unlock();
        if (page >= 0)
        {
            // isolate_abort with the page in hand: another compactor owns the block.
            pages.Set(page, PG.Lru);
            lru.PutPage(page);
        }
        if (lowPfn == endPfn && (nrIsolated == 0 || cc.Rescan))
        {
            if (validPage >= 0 && !skipUpdated) PageblockSkip.SetSkip(zone, validPage);
            PageblockSkip.UpdateCachedMigrate(cc, lowPfn);
        }
    fatalPending:
        cc.TotalMigrateScanned += nrScanned;
        if (nrIsolated > 0) vmstat.Count(VmEvent.CompactIsolated, nrIsolated);
        cc.MigratePfn = lowPfn;
        return ret;
    }

    /// <summary>block_end_pfn(pfn, order): the end of the order-aligned block holding <paramref name="pfn"/>.</summary>
    public static int BlockEndPfn(int pfn, int order) => (pfn + (1 << order)) & ~((1 << order) - 1);

    /// <summary>
    /// too_many_isolated (compaction's, per node): isolated anon+file &gt; half of the node's LRU pages; if not, the
    /// sleepers throttled on isolated pages are woken (wake_throttle_isolated).
    /// </summary>
    private bool TooManyIsolated()
    {
        long active = 0, inactive = 0;
        foreach (var z in node.Zones)
        {
            inactive += z.Stat[(int)ZoneStat.NrInactiveFile] + z.Stat[(int)ZoneStat.NrInactiveAnon];
            active += z.Stat[(int)ZoneStat.NrActiveFile] + z.Stat[(int)ZoneStat.NrActiveAnon];
        }
        bool tooMany = Isolated() > (inactive + active) / 2;
        if (!tooMany) reclaimState?.Isolated.WakeUp(); // wake_throttle_isolated
        return tooMany;
    }

    private long Isolated() => node.Zones.Sum(z => z.Stat[(int)ZoneStat.NrIsolatedFile] + z.Stat[(int)ZoneStat.NrIsolatedAnon]);
}
