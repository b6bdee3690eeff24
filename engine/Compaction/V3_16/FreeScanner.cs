using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Compaction.V3_16;

/// <summary>
/// The free scanner of v3.16 mm/compaction.c: <c>isolate_freepages</c> walks pageblocks downwards from
/// cc-&gt;free_pfn and <c>isolate_freepages_block</c> splits their free buddy blocks into order-0 pages on
/// cc-&gt;freepages, which <c>compaction_alloc</c> hands to migration as targets. Pages held there are tagged
/// <see cref="PageKind.Isolated"/>.
/// </summary>
internal sealed partial class FreeScanner(PageTable pages, PageLists lists, BuddyAllocator buddy, Scheduler scheduler, VmStat vmstat,
    CompactLocking locking)
{
    /// <summary>compaction_alloc: the head of cc-&gt;freepages, refilling it first if empty; -1 = none (→ -ENOMEM).</summary>
    [Preemptible]
    public int CompactionAlloc(CompactControl cc)
    {
        if (lists.Empty(cc.FreePages))
        {
            if (!cc.Contended) IsolateFreepages(cc.Zone, cc);
            if (lists.Empty(cc.FreePages)) return -1;
        }
        int freepage = lists.Next(cc.FreePages);
        lists.Del(freepage);
        cc.NrFreepages--;
        pages.Kind[freepage] = (byte)PageKind.Free; // in use as a target now; migration gives it its kind
        return freepage;
    }

    /// <summary>compaction_free (put_new_page): an unused target goes back to the head of cc-&gt;freepages.</summary>
    public void CompactionFree(CompactControl cc, int page)
    {
        lists.Add(page, cc.FreePages);
        cc.NrFreepages++;
        pages.Kind[page] = (byte)PageKind.Isolated;
    }

    /// <summary>release_freepages: __free_page every page left on the list; returns how many.</summary>
    [Preemptible]
    public int ReleaseFreepages(int freelist)
    {
        int count = 0;
        foreach (int page in lists.Entries(freelist, "release_freepages"))
        {
            lists.Del(page);
            buddy.PutPage(page);
            count++;
        }
        return count;
    }

    /// <summary>
    /// isolate_freepages (v3.16): pageblocks from cc-&gt;free_pfn down to just above the migrate scanner, while
    /// there are fewer free pages than pages to migrate. free_pfn is set to a block before it is scanned, so
    /// the next call rescans that block; when the scanners meet, free_pfn = migrate_pfn.
    /// </summary>
    [Preemptible]
    public void IsolateFreepages(Zone zone, CompactControl cc)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_freepages");
        int nrFreepages = cc.NrFreepages;
        int blockStart = cc.FreePfn & ~(Zone.PageblockNrPages - 1);
        int blockEnd = Math.Min(blockStart + Zone.PageblockNrPages, zone.EndPfn);
        int lowPfn = MigrateScanner.AlignUp(cc.MigratePfn + 1, Zone.PageblockNrPages);
        for (; blockStart >= lowPfn && cc.NrMigratepages > nrFreepages;
             blockEnd = blockStart, blockStart -= Zone.PageblockNrPages)
        {
            if (blockStart % (CompactControl.ClusterMax * Zone.PageblockNrPages) == 0 && locking.CompactShouldAbort(cc)) break;
            if (!zone.Spans(blockStart)) continue;
            if (!SuitableMigrationTarget(zone, blockStart)) continue;
            if (!cc.IsolationSuitable(blockStart)) continue;
            cc.FreePfn = blockStart;
            int isolated = IsolateFreepagesBlock(cc, blockStart, blockEnd);
            nrFreepages += isolated;
            if (isolated > 0) cc.FinishedUpdateFree = true;
            if (cc.Contended) break;
        }
        if (blockStart < lowPfn) cc.FreePfn = cc.MigratePfn;
        cc.NrFreepages = nrFreepages;
    }

    /// <summary>
    /// suitable_migration_target (v3.16): not a pageblock that is one free block already (leave those whole),
    /// and a MOVABLE (or CMA) pageblock.
    /// </summary>
    public bool SuitableMigrationTarget(Zone zone, int pfn)
    {
        if (pages.PageBuddy(pfn) && pages.PageOrder(pfn) >= Zone.PageblockOrder) return false;
        return MigrateScanner.MigrateAsyncSuitable(zone.GetPageblockMigratetype(pfn));
    }

    /// <summary>
    /// isolate_freepages_block (v3.16, non-strict): split every free buddy block in [blockPfn, endPfn) into
    /// order-0 pages under zone-&gt;lock (taken at the first free page, re-checked for contention at each one);
    /// each page is list_add-ed, so the list head ends up at the highest PFN of the last block split.
    /// </summary>
    [Preemptible]
    private int IsolateFreepagesBlock(CompactControl cc, int blockPfn, int endPfn)
    {
        using var _ = scheduler.Current.Path.Enter("isolate_freepages_block");
        var zone = cc.Zone;
        int nrScanned = 0, totalIsolated = 0, validPage = -1;
        bool locked = false, checkedPageblock = false;
        for (; blockPfn < endPfn; blockPfn++)
        {
            nrScanned++;
            if (validPage < 0) validPage = blockPfn;
            scheduler.Preempt("isolate_freepages_block: PageBuddy");
            if (!pages.PageBuddy(blockPfn)) continue;
            locked = locking.CompactChecklockIrqsave(zone.Lock, locked, cc);
            if (!locked) break;
            if (!checkedPageblock)
            {
                checkedPageblock = true;
                if (!SuitableMigrationTarget(zone, blockPfn)) break;
            }
            if (!pages.PageBuddy(blockPfn)) continue;
            int isolated = buddy.SplitFreePage(zone, blockPfn);
            totalIsolated += isolated;
            for (int i = 0; i < isolated; i++)
            {
                lists.Add(blockPfn + i, cc.FreePages);
                pages.Kind[blockPfn + i] = (byte)PageKind.Isolated;
            }
            if (isolated > 0) blockPfn += isolated - 1;
        }
        if (locked) zone.Lock.Unlock();
        if (blockPfn == endPfn) cc.UpdatePageblockSkip(validPage, totalIsolated, setUnsuitable: true, migrateScanner: false);
        vmstat.Count(VmEvent.CompactFreeScanned, nrScanned);
        if (totalIsolated > 0) vmstat.Count(VmEvent.CompactIsolated, totalIsolated);
        return totalIsolated;
    }
}
