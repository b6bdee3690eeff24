using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>
/// <c>shrink_page_list</c> of v3.16 mm/vmscan.c (<see cref="PageListReclaim"/>): <c>page_check_references</c> activates
/// a swap-backed page at its first PTE reference; a page under writeback, and a dirty file page direct reclaim will
/// not write (always) or kswapd (outside a zone flagged ZONE_TAIL_LRU_DIRTY), is tagged PG_reclaim and kept on the
/// inactive list; a mapped or swap-cache page counts twice as scanned. docs/kernel/reclaim-v3.16.md §2.13–2.16.
/// </summary>
internal sealed class PageReclaim(PageTable pages, PageLists lists, Node node, Lru lru, Rmap rmap, PageLock pageLock, SwapCache swapCache,
    Writeback writeback, PageContents contents, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock,
    IWorkingset workingset, PageCache pageCache)
    : PageListReclaim(pages, lists, node, lru, rmap, pageLock, swapCache, writeback, contents, buddy, vmstat, scheduler, clock,
        workingset, pageCache)
{
    protected override string FunctionName => "shrink_page_list";

    protected override Outcome WaitForIoOutcome => Outcome.KeepLocked;

    protected override bool CountsMappedPagesTwice => true;

    protected override bool UnmapIgnoresAccess => false;

    /// <summary>kswapd writes dirty file pages only in a zone flagged ZONE_TAIL_LRU_DIRTY; direct reclaim never.</summary>
    protected override bool LeaveDirtyFilePage(int page, Zone? zone, ScanControl sc) =>
        !sc.Kswapd || (ReclaimFlags(zone) & ZoneFlags.TailLruDirty) == 0;

    /// <summary>
    /// page_check_references (v3.16): a swap-backed page referenced through a PTE is activated; a file page
    /// referenced through a PTE is activated if it was referenced before (PG_referenced) or mapped more than once,
    /// else kept with PG_referenced; an unreferenced file page with PG_referenced is reclaimed only if clean.
    /// </summary>
    protected override References CheckReferences(int page)
    {
        int ptes = Rmap.PageReferenced(page);
        bool referencedPage = Pages.Test(page, PG.Referenced);
        Pages.Clear(page, PG.Referenced);
        bool swapBacked = Pages.Test(page, PG.SwapBacked);
        if (ptes > 0)
        {
            if (swapBacked) return References.Activate;
            Pages.Set(page, PG.Referenced);
            return referencedPage || ptes > 1 ? References.Activate : References.Keep;
        }
        return referencedPage && !swapBacked ? References.ReclaimClean : References.Reclaim;
    }
}
