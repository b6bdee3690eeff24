using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// Whole-memory invariants, checked between operations (kernel-semantics §10.1 items 6 and 8):
/// every PFN is either inside exactly one free buddy block or has a reference; per zone
/// Σ nr_free[o]·2^o equals NR_FREE_PAGES and each nr_free equals the length of its lists; every content
/// token that should be alive is on exactly one page. With the per-cpu layer a page on some CPU's list is a
/// third valid state (_count 0, outside every buddy block, not in NR_FREE_PAGES), and each list's count must
/// match its length.
/// </summary>
internal sealed class PageStateCheck(PageTable pages, PageLists lists, Node node, Sanitizer sanitizer, PageContents contents, SwapArea swap,
    IPerCpuPages? pcp = null)
{
    /// <summary>How the checks' list walks name themselves in a list_corruption report.</summary>
    private const string Walker = "sanitizer: page-state check";

    [NotState("scratch of one check, kept only to reuse its memory")]
    private ulong[] _seenTokens = [];

    /// <summary>Run every check.</summary>
    public void Run()
    {
        foreach (var zone in node.Zones) CheckZone(zone);
        CheckContent(contents.Live, contents.MaxToken);
    }

    private void CheckZone(Zone zone)
    {
        var onPcp = PcpPages(zone);
        long inBlocks = 0;
        for (int pfn = zone.StartPfn; pfn < zone.EndPfn;)
        {
            if (pages.PageBuddy(pfn))
            {
                int order = pages.PageOrder(pfn);
                int end = Math.Min(pfn + (1 << order), zone.EndPfn);
                for (int p = pfn; p < end; p++)
                    if (onPcp.Contains(p))
                        Report(p, $"pfn {p} lies inside the free order-{order} block at pfn {pfn} but is on a per-cpu list");
                for (int p = pfn + 1; p < end; p++)
                    if (pages.PageBuddy(p) || pages.Count[p] != 0)
                        Report(p, $"pfn {p} lies inside the free order-{order} block at pfn {pfn} but is {(pages.PageBuddy(p) ? "a buddy head itself" : $"referenced (_count {pages.Count[p]})")}");
                inBlocks += 1L << order;
                pfn = end;
                continue;
            }
            if (onPcp.Contains(pfn))
            {
                if (pages.Count[pfn] != 0) Report(pfn, $"pfn {pfn} is on a per-cpu list but has _count {pages.Count[pfn]}");
            }
            else if (pages.Count[pfn] <= 0 && !pages.Test(pfn, PG.Tail)) // tail pages of a compound page have _count 0
                Report(pfn, $"pfn {pfn} is in no state: _count {pages.Count[pfn]}, not in a free block");
            pfn++;
        }
        long sum = 0;
        for (int o = 0; o < Zone.MaxOrder; o++)
        {
            long listed = 0;
            for (int mt = 0; mt < zone.Types.Count; mt++) listed += lists.Count(zone.FreeList(o, mt), Walker);
            if (listed != zone.NrFree[o])
                Report(-1, $"zone {zone.Name}: nr_free[{o}] = {zone.NrFree[o]} but the free lists hold {listed} blocks");
            sum += zone.NrFree[o] << o;
        }
        if (sum != zone.FreePages || sum != inBlocks)
            Report(-1, $"zone {zone.Name}: NR_FREE_PAGES = {zone.FreePages}, Σ nr_free·2^order = {sum}, pages in free blocks = {inBlocks}");
    }

    /// <summary>The pages on every CPU's per-cpu lists of the zone (each list walked once); a count that disagrees with its lists is reported.</summary>
    private HashSet<int> PcpPages(Zone zone)
    {
        var onPcp = new HashSet<int>();
        if (pcp is null) return onPcp;
        for (int cpu = 0; cpu < pcp.Cpus; cpu++)
        {
            int count = pcp.Pageset(zone, cpu).Count;
            long listed = 0;
            foreach (var (head, order) in pcp.Lists(zone, cpu))
                foreach (int p in lists.Entries(head, Walker))
                    for (int page = p; page < p + (1 << order); page++)
                    {
                        listed++;
                        if (!onPcp.Add(page)) Report(page, $"pfn {page} is on the per-cpu lists of zone {zone.Name} twice");
                    }
            if (listed != count)
                Report(-1, $"zone {zone.Name} cpu {cpu}: pcp->count = {count} but its lists hold {listed} pages");
        }
        return onPcp;
    }

    private void CheckContent(long liveTokens, long maxToken)
    {
        // One bit per token handed out, kept between runs: this check runs after every operation, and a
        // pfn-per-token map would cost 32x the memory on a large guest.
        int words = (int)(maxToken >> 6) + 1;
        if (_seenTokens.Length < words) _seenTokens = new ulong[Math.Max(words, _seenTokens.Length * 2)];
        else Array.Clear(_seenTokens, 0, words);
        long live = 0;
        for (int pfn = 0; pfn < pages.NrPages; pfn++) live += See(pages.Content[pfn], pfn, maxToken, swapSlot: -1);
        for (int slot = 0; slot < swap.Content.Length; slot++) live += See(swap.Content[slot], -1, maxToken, slot);
        if (live != liveTokens)
            sanitizer.Report(ReportKind.DataCorruption, -1, $"{liveTokens} pages of data should exist but {live} pages hold data: {liveTokens - live} lost");
    }

    /// <summary>
    /// Mark token <paramref name="t"/> seen on <paramref name="pfn"/> (or on swap slot <paramref name="swapSlot"/> if
    /// that is not -1); 1 if it is a token (reported if never handed out or seen twice). Runs for every page after every
    /// operation: nothing is allocated unless there is something to report.
    /// </summary>
    private int See(long t, int pfn, long maxToken, int swapSlot)
    {
        if (t == 0) return 0;
        if (t < 0 || t > maxToken)
        {
            sanitizer.Report(ReportKind.DataCorruption, pfn, $"{Where(pfn, swapSlot)} holds content token {t}, which was never handed out");
            return 0;
        }
        ulong bit = 1UL << (int)(t & 63);
        if ((_seenTokens[t >> 6] & bit) != 0)
            sanitizer.Report(ReportKind.DataCorruption, pfn, $"content token {t} is on pfn {FirstPfnHolding(t)} and {Where(pfn, swapSlot)}: data duplicated");
        _seenTokens[t >> 6] |= bit;
        return 1;
    }

    private static string Where(int pfn, int swapSlot) => swapSlot >= 0 ? $"swap slot {swapSlot}" : $"pfn {pfn}";

    /// <summary>Only on the rare duplicate: the lowest pfn holding <paramref name="token"/>.</summary>
    private int FirstPfnHolding(long token) => Array.IndexOf(pages.Content, token);

    private void Report(long pfn, string message) => sanitizer.Report(ReportKind.Accounting, pfn, message);
}
