using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The buddy bookkeeping of mm/page_alloc.c that did not change from v3.16 to 6.1: <c>expand</c>, <c>page_is_buddy</c>,
/// and <c>put_page_testzero</c> with its VM_BUG_ON. Each version's buddy allocator keeps one.
/// </summary>
internal sealed class FreeArea(PageTable pages, PageLists lists, Sanitizer sanitizer)
{
    /// <summary>
    /// expand: split a block of order <paramref name="high"/> down to <paramref name="low"/>; each upper half
    /// goes to the head of the list of its order. The caller keeps the lowest-addressed 2^low pages.
    /// </summary>
    public void Expand(Zone zone, int pfn, int low, int high, int mt)
    {
        int size = 1 << high;
        while (high > low)
        {
            high--;
            size >>= 1;
            lists.Add(pfn + size, zone.FreeList(high, mt));
            zone.NrFree.Add(high, 1);
            pages.SetPageOrder(pfn + size, high);
        }
    }

    /// <summary>page_is_buddy: a valid PFN, PageBuddy with exactly this order, in the same zone.</summary>
    public bool PageIsBuddy(Zone zone, int buddy, int order) =>
        buddy < pages.NrPages && pages.PageBuddy(buddy) && pages.PageOrder(buddy) == order && zone.Spans(buddy);

    /// <summary>put_page_testzero: drop a reference to the (head) page; true if it was the last one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PutPageTestzero(int pfn)
    {
        if (pages.Count[pfn] <= 0) return PutPageOfFreePage(pfn);
        return --pages.Count[pfn] == 0;
    }

    /// <summary>The VM_BUG_ON of <see cref="PutPageTestzero"/> (out of line: the hot path stays small enough to inline).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool PutPageOfFreePage(int pfn)
    {
        sanitizer.Report(ReportKind.VmBug, pfn, $"VM_BUG_ON_PAGE(page_count(page) <= 0): put_page on a page with _count {pages.Count[pfn]}");
        return false;
    }
}
