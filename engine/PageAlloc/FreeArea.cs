using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The buddy bookkeeping of mm/page_alloc.c that did not change from v3.16 to 6.1: <c>expand</c>, <c>page_is_buddy</c>,
/// <c>put_page_testzero</c> with its VM_BUG_ON, and rmqueue_bulk's order-0 pages from __rmqueue_smallest a block at a
/// time. Each version's buddy allocator keeps one.
/// </summary>
internal sealed class FreeArea(PageTable pages, PageLists lists, Sanitizer sanitizer)
{
    /// <summary>
    /// The MAX_ORDER blocks whose host memory <see cref="PrefaultMaxOrderBlock"/> made writable: once is enough, the page
    /// arrays live as long as the guest.
    /// </summary>
    [NotState("which of the host's memory is resident, not the guest's state: a restore keeps it")]
    private readonly bool[] _prefaulted = new bool[pages.Changes.BlockCount];

    /// <summary>
    /// expand: split a block of order <paramref name="high"/> down to <paramref name="low"/>; each upper half
    /// goes to the head of the list of its order. The caller keeps the lowest-addressed 2^low pages.
    /// </summary>
    public void Expand(Zone zone, int pfn, int low, int high, int mt)
    {
        PrefaultMaxOrderBlock(pfn, high);
        int size = 1 << high;
        while (high > low)
        {
            high--;
            size >>= 1;
            AddFreeBlock(zone, pfn + size, high, mt);
        }
    }

    /// <summary>A free block at the head of its order's list (list_add, nr_free++, set_page_order), as expand adds each half.</summary>
    private void AddFreeBlock(Zone zone, int pfn, int order, int mt)
    {
        lists.Add(pfn, zone.FreeList(order, mt));
        zone.NrFree.Add(order, 1);
        pages.SetPageOrder(pfn, order);
    }

    /// <summary>
    /// rmqueue_bulk's order-0 __rmqueue calls while __rmqueue_smallest serves them, a block at a time: the same state (links,
    /// change marks, counters, page fields) as page by page. Where the smallest non-empty list of <paramref name="mt"/> is
    /// order 0, its first entries move in their order to the per-cpu list; above order 0 the lists below are empty, so
    /// the block at its head comes out page by page in PFN order, each split leaving the rest of the block on the lists
    /// below, one block of each order. Takes at most <paramref name="max"/> pages and links them between
    /// <paramref name="tail"/> (set to the last) and <paramref name="head"/>, the per-cpu list's: where v3.16's list_add
    /// after the page before and 6.1's list_add_tail both put them on a sound list. Returns how many; 0 where the first
    /// page should be taken by __rmqueue: no such list, partial-order reduction recording, or a list a step would report.
    /// </summary>
    public int RmqueueSmallestRun(Zone zone, int mt, int max, ref int tail, int head)
    {
        if (lists.Tracking) return 0; // before any access: the recorder sees only the page-by-page steps
        int order = 0, freeList;
        while (lists.Empty(freeList = zone.FreeList(order, mt)))
            if (++order == Zone.MaxOrder) return 0;
        int first = lists.Next(freeList), taken;
        if (order == 0)
        {
            taken = lists.TryMoveFirst(freeList, max, tail, head);
            zone.NrFree.Add(0, -taken);
        }
        else
        {
            // expand will add to every list below: each must be empty both ways, or its first list_add reports.
            for (int o = 0; o < order; o++)
                if (lists.Prev(zone.FreeList(o, mt)) != zone.FreeList(o, mt)) return 0;
            taken = Math.Min(max, 1 << order);
            PrefaultMaxOrderBlock(first, order);
            if (!lists.TryTakeRun(first, taken, tail, head)) return 0;
            zone.NrFree.Add(order, -1);
            // What is left of the block, [taken, 2^order), in aligned blocks of rising order, each alone on its list.
            for (int o = 0, rest = taken; rest < 1 << order; o++)
            {
                if ((rest & (1 << o)) == 0) continue;
                AddFreeBlock(zone, first + rest, o, mt);
                rest += 1 << o;
            }
        }
        // Each page taken as __rmqueue_smallest leaves it: rmv_page_order, set_freepage_migratetype.
        for (int i = 0, p = first; i < taken; i++, p = lists.Next(p))
        {
            pages.RmvPageOrder(p);
            pages.Index[p] = mt;
            tail = p;
        }
        return taken;
    }

    /// <summary>
    /// A MAX_ORDER block leaving the free lists to be split and handed out for the first time: the fields and links its
    /// pages' allocation reads before it writes them are faulted in writable first (<see cref="HostMemory"/>). Boot wrote
    /// only the block's head page, so the rest of its host memory is untouched then.
    /// </summary>
    private void PrefaultMaxOrderBlock(int pfn, int order)
    {
        if (order != Zone.MaxOrder - 1) return;
        int block = pfn >> PageChanges.BlockOrder;
        if (_prefaulted[block]) return;
        _prefaulted[block] = true;
        pages.PrefaultWritable(pfn, 1 << order);
        lists.PrefaultWritable(pfn, 1 << order);
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
