using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Time;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// <c>shrink_folio_list</c> of 6.1 mm/vmscan.c for single pages (<see cref="PageListReclaim"/>; no demotion, no
/// large folios, no MADV_FREE pages here). Where it differs from v3.16's shrink_page_list: <c>folio_check_references</c>
/// gives an anonymous page referenced once through a PTE another trip round the inactive list (PG_referenced) like a
/// file page; pages left for I/O — under writeback, or a dirty file page not written here — are activated, out of the
/// way of the clean ones (4.11); kswapd writes a dirty file page only when it meets it a second time (PG_reclaim) in a
/// node flagged PGDAT_DIRTY; every page counts once as scanned; an evicted swap-cache page leaves a workingset shadow
/// entry too (5.9).
/// </summary>
internal sealed class FolioReclaim(PageTable pages, PageLists lists, Node node, Lru lru, Rmap rmap, PageLock pageLock, SwapCache swapCache,
    Writeback writeback, PageContents contents, IBuddyAllocator buddy, VmStat vmstat, Scheduler scheduler, SimClock clock,
    IWorkingset workingset, PageCache pageCache)
    : PageListReclaim(pages, lists, node, lru, rmap, pageLock, swapCache, writeback, contents, buddy, vmstat, scheduler, clock,
        workingset, pageCache)
{
    protected override string FunctionName => "shrink_folio_list";

    protected override Outcome WaitForIoOutcome => Outcome.Activate;

    protected override bool CountsMappedPagesTwice => false;

    protected override bool UnmapIgnoresAccess => true;

    /// <summary>Only kswapd writes a dirty file page, and only one already tagged PG_reclaim in a node flagged PGDAT_DIRTY.</summary>
    protected override bool LeaveDirtyFilePage(int page, Zone? zone, V3_16.ScanControl sc) =>
        !sc.Kswapd || !Pages.Test(page, PG.Reclaim) || (ReclaimFlags(zone) & ZoneFlags.TailLruDirty) == 0;

    /// <summary>
    /// folio_check_references (6.1): referenced through a PTE, the page gets PG_referenced and is activated if it had it
    /// already or is mapped more than once (or is a file page mapped VM_EXEC, which none here is), else kept for another
    /// trip; unreferenced, a file page that had PG_referenced is reclaimed only if clean, any other page reclaimed.
    /// </summary>
    protected override References CheckReferences(int page)
    {
        int ptes = Rmap.PageReferenced(page);
        bool referencedFolio = Pages.Test(page, PG.Referenced);
        Pages.Clear(page, PG.Referenced);
        if (ptes > 0)
        {
            Pages.Set(page, PG.Referenced);
            return referencedFolio || ptes > 1 ? References.Activate : References.Keep;
        }
        return referencedFolio && !Pages.Test(page, PG.SwapBacked) ? References.ReclaimClean : References.Reclaim;
    }
}
