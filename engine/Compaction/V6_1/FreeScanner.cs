using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Compaction.V6_1;

/// <summary>
/// The free scanner of 6.1 mm/compaction.c (docs/kernel/v6.1.md §3.6): <c>isolate_freepages</c> first searches the
/// MOVABLE free lists of the orders below the request, from their tails, for a block in the top quarter (else half) of
/// the scan space (<c>fast_isolate_freepages</c>, then <c>fast_isolate_around</c> that block's pageblock); only if that
/// yields nothing does it walk pageblocks down from <c>cc-&gt;free_pfn</c>, with a stride of 32 (async) that doubles
/// over empty blocks. Free blocks are isolated whole (__isolate_free_page at the min mark) and split only at the end
/// (<c>split_map_pages</c>). <c>compaction_alloc</c> / <c>compaction_free</c> hand them to migration.
/// </summary>
internal sealed partial class FreeScanner(PageTable pages, PageLists lists, Scheduler scheduler, SimClock clock, VmStat vmstat,
    CompactLocking locking, BuddyAllocator buddy)
{
    /// <summary>compaction_alloc: the head of cc-&gt;freepages, refilled by isolate_freepages when empty; -1 if still empty.</summary>
    [Preemptible]
    public int CompactionAlloc(CompactControl cc)
    {
        if (lists.Empty(cc.FreePages))
        {
            IsolateFreepages(cc);
            if (lists.Empty(cc.FreePages)) return -1;
        }
        int page = lists.Next(cc.FreePages);
        lists.Del(page);
        cc.NrFreepages--;
        return page;
    }

    /// <summary>compaction_free: an unused target back at the head of cc-&gt;freepages.</summary>
    public void CompactionFree(CompactControl cc, int page)
    {
        lists.Add(page, cc.FreePages);
        cc.NrFreepages++;
    }

    /// <summary>release_freepages: __free_page every page left on the list; the highest PFN among them (0 if none).</summary>
    [Preemptible]
    public int ReleaseFreepages(int freelist)
    {
        int highPfn = 0;
        foreach (int page in lists.Entries(freelist, "release_freepages"))
        {
            lists.Del(page);
            buddy.PutPage(page);
            highPfn = Math.Max(highPfn, page);
        }
        return highPfn;
    }

    /// <summary>isolate_freepages (6.1): the fast search, else the linear scan (see the class comment); then split_map_pages.</summary>
    [Preemptible]
    public void IsolateFreepages(CompactControl cc)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_freepages");
        var zone = cc.Zone;
        FastIsolateFreepages(cc);
        if (cc.NrFreepages == 0)
        {
            int isolateStartPfn = cc.FreePfn;
            int blockStart = PageblockSkip.PageblockStartPfn(isolateStartPfn);
            int blockEnd = Math.Min(blockStart + Zone.PageblockNrPages, zone.EndPfn);
            int lowPfn = PageblockSkip.PageblockEndPfn(cc.MigratePfn);
            int stride = cc.Mode == MigrateMode.Async ? CompactControl.ClusterMax : 1;
            for (; blockStart >= lowPfn; blockEnd = blockStart, blockStart -= Zone.PageblockNrPages, isolateStartPfn = blockStart)
            {
                if (blockStart % (CompactControl.ClusterMax * Zone.PageblockNrPages) == 0) clock.CondResched();
                if (!zone.Spans(blockStart)) continue;
                if (!SuitableMigrationTarget(cc, blockStart) || !PageblockSkip.IsolationSuitable(cc, blockStart)) continue;
                int nrIsolated = IsolateFreepagesBlock(cc, ref isolateStartPfn, blockEnd, cc.FreePages, stride);
                if (isolateStartPfn == blockEnd) PageblockSkip.UpdatePageblockSkip(cc, blockStart);
                if (cc.NrFreepages >= cc.NrMigratepages)
                {
                    if (isolateStartPfn >= blockEnd) isolateStartPfn = blockStart - Zone.PageblockNrPages;
                    break;
                }
                if (isolateStartPfn < blockEnd) break;
                stride = nrIsolated > 0 ? 1 : Math.Min(CompactControl.ClusterMax, stride << 1);
            }
            cc.FreePfn = isolateStartPfn;
        }
        SplitMapPages(cc.FreePages);
    }

    /// <summary>
    /// suitable_migration_target (6.1): not a block that is one free block of pageblock order already; any block with
    /// ignore_block_suitable (SYNC_FULL priority); else a MOVABLE (or CMA) block.
    /// </summary>
    public bool SuitableMigrationTarget(CompactControl cc, int pfn)
    {
        if (pages.PageBuddy(pfn) && pages.PageOrder(pfn) >= Zone.PageblockOrder) return false;
        return cc.IgnoreBlockSuitable || MigrateType.IsMovable(cc.Zone.GetPageblockMigratetype(pfn));
    }

    /// <summary>
    /// fast_isolate_freepages (6.1): for a real order, search the MOVABLE lists from order−1 down (round-robin from the
    /// last successful order) from their tails, for a block at or above low_pfn (the top quarter of the scan space); a
    /// block above min_pfn (the top half) is remembered and shortens the search. The block found is isolated whole; the
    /// list is rotated so the scanned entries go last. With nothing found at the start of a scan, the free scanner jumps
    /// to the highest block seen above min_pfn (or, for direct compaction, to min_pfn). Returns the PFN used.
    /// </summary>
    [Preemptible]
    private int FastIsolateFreepages(CompactControl cc)
    {
        var zone = cc.Zone;
        int limit = Math.Max(1, MigrateScanner.FreelistScanLimit(cc) >> 1);
        int nrScanned = 0, highest = 0, page = -1;
        bool scanStart = false;
        if (cc.Order <= 0) return cc.FreePfn;
        if (cc.FreePfn >= zone.CompactInitFreePfn)
        {
            limit = Zone.PageblockNrPages >> 1;
            scanStart = true;
        }
        int distance = cc.FreePfn - cc.MigratePfn;
        int lowPfn = PageblockSkip.PageblockStartPfn(cc.FreePfn - (distance >> 2));
        int minPfn = PageblockSkip.PageblockStartPfn(cc.FreePfn - (distance >> 1));
        if (minPfn > lowPfn) lowPfn = minPfn;
        cc.SearchOrder = Math.Min(cc.Order - 1, cc.SearchOrder);
        for (int order = cc.SearchOrder; page < 0 && order >= 0; order = NextSearchOrder(cc, order))
        {
            int orderScanned = 0, highPfn = 0;
            if (zone.NrFree[order] == 0) continue;
            zone.Lock.Lock();
            int freelist = zone.FreeList(order, MigrateType.Movable);
            int freepage = freelist;
            for (int p = lists.Prev(freelist); p != freelist; p = lists.Prev(p))
            {
                freepage = p;
                orderScanned++;
                nrScanned++;
                if (p >= highest) highest = Math.Max(PageblockSkip.PageblockStartPfn(p), zone.StartPfn);
                if (p >= lowPfn)
                {
                    cc.FastSearchFail = 0;
                    cc.SearchOrder = order;
                    page = p;
                    break;
                }
                if (p >= minPfn && p > highPfn)
                {
                    highPfn = p;
                    limit >>= 1;
                }
                if (orderScanned >= limit) break;
                freepage = freelist; // list_for_each_entry_reverse ran off the end
            }
            if (page < 0 && highPfn != 0) page = freepage = highPfn;
            lists.RotateToFront(freepage, freelist); // move_freelist_head
            if (page >= 0)
            {
                int nrIsolated = buddy.IsolateFreePage(zone, page, order);
                if (nrIsolated != 0)
                {
                    pages.Private[page] = order;
                    nrScanned += nrIsolated - 1;
                    cc.NrFreepages += nrIsolated;
                    lists.AddTail(page, cc.FreePages);
                    vmstat.Count(VmEvent.CompactIsolated, nrIsolated);
                }
                else
                {
                    order = cc.SearchOrder + 1;
                    page = -1;
                }
            }
            zone.Lock.Unlock();
            if (orderScanned >= limit) limit = Math.Max(1, limit >> 1);
        }
        if (page < 0)
        {
            cc.FastSearchFail++;
            if (scanStart)
            {
                if (highest >= minPfn) page = cc.FreePfn = highest;
                else if (cc.DirectCompaction && zone.Spans(minPfn))
                {
                    // pageblock_pfn_to_page(min_pfn, min(pageblock_end_pfn(min_pfn), zone_end_pfn(zone)), zone): the
                    // block's end capped at the zone's, so a partial last block is used too (an audit of 6 December)
                    page = cc.FreePfn = minPfn;
                }
            }
        }
        if (highest != 0 && highest >= zone.CompactCachedFreePfn) zone.CompactCachedFreePfn = highest - Zone.PageblockNrPages;
        cc.TotalFreeScanned += nrScanned;
        if (page < 0) return cc.FreePfn;
        FastIsolateAround(cc, page);
        return page;
    }

    /// <summary>
    /// next_search_order: one order down, wrapping to order−1; back at the order the search started from, the next
    /// search will start one lower, and this one ends (-1).
    /// </summary>
    private static int NextSearchOrder(CompactControl cc, int order)
    {
        order--;
        if (order < 0) order = cc.Order - 1;
        if (order != cc.SearchOrder) return order;
        cc.SearchOrder--;
        if (cc.SearchOrder < 0) cc.SearchOrder = cc.Order - 1;
        return -1;
    }

    /// <summary>
    /// fast_isolate_around: unless there are enough free pages or this is async direct compaction, scan the pageblock of
    /// <paramref name="pfn"/> with stride 1, and mark it skip if it still was not enough.
    /// </summary>
    [Preemptible]
    private void FastIsolateAround(CompactControl cc, int pfn)
    {
        var zone = cc.Zone;
        if (cc.NrFreepages >= cc.NrMigratepages) return;
        if (cc.DirectCompaction && cc.Mode == MigrateMode.Async) return;
        int startPfn = Math.Max(PageblockSkip.PageblockStartPfn(pfn), zone.StartPfn);
        int endPfn = Math.Min(PageblockSkip.PageblockEndPfn(pfn), zone.EndPfn);
        IsolateFreepagesBlock(cc, ref startPfn, endPfn, cc.FreePages, 1);
        if (cc.NrFreepages < cc.NrMigratepages) PageblockSkip.SetSkip(zone, pfn);
    }

    /// <summary>
    /// isolate_freepages_block (6.1, not strict): every <paramref name="stride"/>-th PFN; zone-&gt;lock dropped every 32
    /// PFNs and taken at the first free block (compact_lock_irqsave), which is re-checked; compound pages are jumped;
    /// each free block is isolated whole (its order kept in <c>private</c>) onto the tail of <paramref name="freelist"/>;
    /// it stops when the watermark refuses a block or once there are as many free pages as pages to migrate.
    /// <paramref name="startPfn"/> becomes where it stopped. Returns the pages isolated.
    /// </summary>
    public int IsolateFreepagesBlock(CompactControl cc, ref int startPfn, int endPfn, int freelist, int stride)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_freepages_block");
        var zone = cc.Zone;
        int nrScanned = 0, totalIsolated = 0, blockPfn = startPfn;
        bool locked = false;
        for (; blockPfn < endPfn; blockPfn += stride)
        {
            if (blockPfn % CompactControl.ClusterMax == 0 && locking.CompactUnlockShouldAbort(zone.Lock, ref locked, cc)) break;
            nrScanned++;
            scheduler.Preempt("isolate_freepages_block: PageBuddy");
            if (pages.Test(blockPfn, PG.Head))
            {
                blockPfn += (1 << pages.Private[blockPfn + 1]) - 1;
                continue;
            }
            if (!pages.PageBuddy(blockPfn)) continue;
            if (!locked)
            {
                locking.CompactLockIrqsave(zone.Lock, cc);
                locked = true;
                if (!pages.PageBuddy(blockPfn)) continue;
            }
            int order = pages.PageOrder(blockPfn);
            int isolated = buddy.IsolateFreePage(zone, blockPfn, order);
            if (isolated == 0) break;
            pages.Private[blockPfn] = order;
            nrScanned += isolated - 1;
            totalIsolated += isolated;
            cc.NrFreepages += isolated;
            lists.AddTail(blockPfn, freelist);
            if (cc.NrMigratepages <= cc.NrFreepages)
            {
                blockPfn += isolated;
                break;
            }
            blockPfn += isolated - 1;
        }
        if (locked) zone.Lock.Unlock();
        if (blockPfn > endPfn) blockPfn = endPfn;
        startPfn = blockPfn;
        cc.TotalFreeScanned += nrScanned;
        if (totalIsolated > 0) vmstat.Count(VmEvent.CompactIsolated, totalIsolated);
        return totalIsolated;
    }

    /// <summary>
    /// split_map_pages: each isolated block becomes 2^order independent pages (post_alloc_hook: _count 1, private 0;
    /// split_page), pushed in turn onto a temporary list that then goes before the rest: the last page of the last block
    /// comes first.
    /// </summary>
    private void SplitMapPages(int list)
    {
        var split = new List<int>();
        for (int page = lists.Next(list); page != list; page = lists.Next(list))
        {
            lists.Del(page);
            int order = pages.Private[page];
            for (int p = page; p < page + (1 << order); p++)
            {
                pages.Count[p] = 1;
                pages.Private[p] = 0;
                pages.Kind[p] = (byte)PageKind.Isolated;
                split.Add(p);
            }
        }
        foreach (int p in split) lists.Add(p, list);
    }
}
