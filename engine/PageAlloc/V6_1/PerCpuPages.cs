using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// struct per_cpu_pages (6.1 mmzone.h) of one zone on one CPU: NR_PCP_LISTS lists — one per (order ≤
/// PAGE_ALLOC_COSTLY_ORDER, PCPTYPE) and one for pageblock-order (THP) blocks of any type — holding <c>count</c> base
/// pages in all; <c>high</c> and <c>batch</c> set by zone_pcp_update, <c>free_factor</c> grown by frees and halved by
/// allocations.
/// </summary>
internal sealed class PerCpuPages
{
    /// <summary>NR_LOWORDER_PCP_LISTS: MIGRATE_PCPTYPES × (PAGE_ALLOC_COSTLY_ORDER + 1).</summary>
    public const int NrLoworderPcpLists = MigrateType.PcpTypes * (PageAllocator.CostlyOrder + 1);
    /// <summary>NR_PCP_LISTS: the low orders and one THP list (NR_PCP_THP).</summary>
    public const int NrPcpLists = NrLoworderPcpLists + 1;

    public PerCpuPages(PageLists lists)
    {
        Lists = new int[NrPcpLists];
        for (int i = 0; i < Lists.Length; i++) Lists[i] = lists.NewHead();
    }

    /// <summary>lists[NR_PCP_LISTS]: list heads in <see cref="PageLists"/>, indexed by <see cref="OrderToPindex"/>.</summary>
    public int[] Lists { get; }
    /// <summary>count: base pages on <see cref="Lists"/>.</summary>
    public int Count { get; set; }
    /// <summary>high: the count at which a free returns pages to the buddy lists (BOOT_PAGESET_HIGH 0 until set up).</summary>
    public int High { get; set; }
    /// <summary>batch: pages moved per refill (BOOT_PAGESET_BATCH 1 until set up).</summary>
    public int Batch { get; set; } = 1;
    /// <summary>free_factor: frees in a row without an allocation double the bulk free (nr_pcp_free).</summary>
    public int FreeFactor { get; set; }

    /// <summary>order_to_pindex: <c>3 × order + mt</c> for low orders, the THP list for pageblock order.</summary>
    public static int OrderToPindex(int mt, int order) => order > PageAllocator.CostlyOrder ? NrLoworderPcpLists : MigrateType.PcpTypes * order + mt;

    /// <summary>pindex_to_order.</summary>
    public static int PindexToOrder(int pindex) => pindex == NrLoworderPcpLists ? Zone.PageblockOrder : pindex / MigrateType.PcpTypes;
}
