using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc.V3_16;

/// <summary>
/// struct per_cpu_pages (v3.16 mmzone.h) of one zone on one CPU: free order-0 pages kept off the buddy lists,
/// one list per MIGRATE_PCPTYPES type, <c>count</c> pages in all, refilled and drained <c>batch</c> at a time,
/// drained when <c>count</c> reaches <c>high</c>.
/// </summary>
internal sealed class PerCpuPages
{
    public PerCpuPages(PageLists lists, long managedPages)
    {
        Lists = new int[MigrateType.PcpTypes];
        for (int mt = 0; mt < Lists.Length; mt++) Lists[mt] = lists.NewHead();
        PagesetSetBatch(ZoneBatchsize(managedPages));
    }

    /// <summary>lists[MIGRATE_PCPTYPES]: list heads in <see cref="PageLists"/>.</summary>
    public int[] Lists { get; }
    /// <summary>count: the pages on <see cref="Lists"/> (saved by <see cref="PerCpuPagesets"/>; the rest is fixed at boot).</summary>
    public int Count { get; set; }
    public int High { get; private set; }
    public int Batch { get; private set; }

    /// <summary>
    /// zone_batchsize (v3.16, CONFIG_MMU): about a thousandth of the zone but no more than 512 KiB, divided by
    /// 4, then clamped to a 2^n − 1 value (rounddown_pow_of_two(batch + batch/2) − 1; may give 0).
    /// </summary>
    public static int ZoneBatchsize(long managedPages)
    {
        long batch = managedPages / 1024;
        if (batch * 4096 > 512 * 1024) batch = 512 * 1024 / 4096;
        batch /= 4;
        if (batch < 1) batch = 1;
        long sum = batch + batch / 2;
        return (int)(1L << (63 - (int)long.LeadingZeroCount(sum))) - 1; // rounddown_pow_of_two(sum) - 1
    }

    /// <summary>pageset_set_batch (v3.16): high = 6 × batch, batch = max(1, batch).</summary>
    private void PagesetSetBatch(int batch)
    {
        High = 6 * batch;
        Batch = Math.Max(1, batch);
    }
}
