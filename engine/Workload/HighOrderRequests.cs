using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// High-order allocation attempts, each through alloc_pages with direct compaction. Order 9 is a THP fault
/// (GFP_TRANSHUGE; do_huge_pmd_anonymous_page counts thp_fault_alloc or thp_fault_fallback); other orders
/// ask with GFP_HIGHUSER_MOVABLE | __GFP_COMP. Allocated blocks are kept, tagged <see cref="PageKind.Kernel"/>.
/// A task with a fatal signal pending faults no further.
/// </summary>
internal sealed partial class HighOrderRequests(PageTable pages, IPageAllocator allocator, VmStat vmstat, FatalSignal signal, Host.RamBlock ram)
    : ISnapshotState
{
    public const int HpageOrder = 9;

    /// <summary>Pages the successful requests hold (never given back).</summary>
    public long AllocatedPages { get; private set; }

    public object Save() => AllocatedPages;

    public void Restore(object saved) => AllocatedPages = (long)saved;

    /// <summary>Try <paramref name="count"/> allocations of 2^<paramref name="order"/> pages; returns the successes.</summary>
    [Preemptible]
    public long Allocate(int order, long count)
    {
        bool thp = order == HpageOrder;
        var gfp = thp ? Gfp.TransHuge : Gfp.HighUserMovable | Gfp.Comp;
        long successes = 0;
        for (long i = 0; i < count && !signal.Pending; i++)
        {
            if (thp) vmstat.Count(VmEvent.Pgfault); // handle_mm_fault counts the fault before do_huge_pmd_anonymous_page
            int page = allocator.AllocPages(order, gfp);
            if (thp) vmstat.Count(page >= 0 ? VmEvent.ThpFaultAlloc : VmEvent.ThpFaultFallback);
            if (page < 0) continue;
            pages.Kind.Fill((byte)PageKind.Kernel, page, 1 << order);
            ram.Write(page, 1 << order); // a THP's clear_huge_page; another order's owner fills its block
            successes++;
            AllocatedPages += 1L << order;
        }
        return successes;
    }
}
