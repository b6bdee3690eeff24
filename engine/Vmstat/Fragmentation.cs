using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// The fragmentation formulas of mm/vmstat.c (v3.16): <c>fill_contig_page_info</c>,
/// <c>__fragmentation_index</c> and <c>unusable_free_index</c>, integer arithmetic as the kernel does it.
/// Both indices are ×1000.
/// </summary>
internal static class Fragmentation
{
    /// <summary>struct contig_page_info.</summary>
    public readonly record struct ContigPageInfo(ulong FreePages, ulong FreeBlocksTotal, ulong FreeBlocksSuitable);

    public static ContigPageInfo Fill(ReadOnlySpan<long> nrFree, int suitableOrder)
    {
        ulong freePages = 0, total = 0, suitable = 0;
        for (int o = 0; o < Zone.MaxOrder; o++)
        {
            ulong blocks = (ulong)nrFree[o];
            total += blocks;
            freePages += blocks << o;
            if (o >= suitableOrder) suitable += blocks << (o - suitableOrder);
        }
        return new ContigPageInfo(freePages, total, suitable);
    }

    /// <summary>__fragmentation_index: 0 no free blocks; -1000 the request would succeed; else towards
    /// 1000 the failure is due to fragmentation, towards 0 due to lack of memory.</summary>
    public static int Index(int order, ContigPageInfo info)
    {
        ulong requested = 1UL << order;
        if (info.FreeBlocksTotal == 0) return 0;
        if (info.FreeBlocksSuitable != 0) return -1000;
        // Unsigned as in the kernel: a quotient above 1000 wraps, and the int return makes it negative.
        return unchecked((int)(1000UL - (1000 + info.FreePages * 1000UL / requested) / info.FreeBlocksTotal));
    }

    /// <summary>unusable_free_index: the share (×1000) of free memory that cannot serve this order.</summary>
    public static int Unusable(int order, ContigPageInfo info)
    {
        if (info.FreePages == 0) return 1000;
        return (int)((info.FreePages - (info.FreeBlocksSuitable << order)) * 1000UL / info.FreePages);
    }

    /// <summary>
    /// extfrag_for_order (5.9+, the proactive-compaction score): the percentage of free pages in blocks smaller than
    /// 2^<paramref name="order"/>, 0 with no free pages.
    /// </summary>
    public static int ExtfragForOrder(Zone zone, int order)
    {
        var info = Fill(zone.NrFree.AsSpan(), order);
        if (info.FreePages == 0) return 0;
        return (int)((info.FreePages - (info.FreeBlocksSuitable << order)) * 100 / info.FreePages);
    }

    /// <summary>fragmentation_index(zone, order), as compaction_suitable calls it.</summary>
    public static int ZoneIndex(Zone zone, int order) => Index(order, Fill(zone.NrFree.AsSpan(), order));

    public static int ZoneUnusable(Zone zone, int order) => Unusable(order, Fill(zone.NrFree.AsSpan(), order));

    /// <summary>
    /// How debugfs prints an index: C's <c>"%d.%03d"</c> of index/1000 and index%1000, both truncating towards
    /// zero, so a negative index that is not -1000 prints as e.g. "0.-500" (the sign counts in the width 3); with
    /// <paramref name="width"/> 2, <c>"%2d.%03d"</c> (6.1's extfrag_index: " 0.931").
    /// </summary>
    public static string Format(int index, int width = 1)
    {
        int frac = index % 1000;
        string fracText = frac >= 0 ? frac.ToString("D3") : "-" + (-frac).ToString("D2");
        return $"{(index / 1000).ToString().PadLeft(width)}.{fracText}";
    }
}
