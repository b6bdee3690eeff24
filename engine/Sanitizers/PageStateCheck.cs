using System.Runtime.CompilerServices;
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
/// match its length; so is a tail page of a block free page hinting holds (an order-10 allocation without __GFP_COMP:
/// only its head page has a reference).
/// <para>
/// The full check (<see cref="Run()"/>) looks at every page and walks every free list. After an operation,
/// <see cref="Run(IReadOnlyList{int})"/> looks only at the MAX_ORDER blocks the operation changed
/// (<see cref="PageChanges"/>) and finds nothing exactly when the full check would find nothing: the last check found
/// nothing (otherwise this one is full, so that a finding is reported again after every operation, as before), the
/// blocks nobody changed are as that check saw them, and what it kept of each block (free blocks per order, content
/// tokens and their hash), with the swap area's running sums of the data on its slots, adds up to the zones' counters
/// and the content ledger. The free lists are not walked: every free page's links are checked where they changed,
/// instead (both ends of a changed link are marked): a free page
/// must be doubly linked between free pages of its order and zone or that order's list heads, and no other page may
/// be linked to one. Each list made of such links holds exactly the free blocks of its order, so its length is what
/// the walk would count. Whenever anything is off, the full check runs and reports exactly what it always did.
/// </para>
/// </summary>
internal sealed class PageStateCheck(PageTable pages, PageLists lists, Node node, Sanitizer sanitizer, PageContents contents, SwapArea swap,
    IPerCpuPages? pcp = null, Virtio.V6_1.FreePageHint? hint = null) : ISnapshotState
{
    /// <summary>How the checks' list walks name themselves in a list_corruption report.</summary>
    private const string Walker = "sanitizer: page-state check";
    private const int BlockOrder = PageChanges.BlockOrder;

    [NotState("scratch of one check, kept only to reuse its memory")]
    private ulong[] _seenTokens = [];

    /// <summary>Per MAX_ORDER block and order: the free blocks whose head lies there, as the last check saw them.</summary>
    private readonly int[] _freeBlocks = new int[pages.Changes.BlockCount * Zone.MaxOrder];
    private readonly int[] _tokens = new int[pages.Changes.BlockCount];
    private readonly ulong[] _tokenHash = new ulong[pages.Changes.BlockCount];

    /// <summary>
    /// The summaries added up, kept as each block's changes: per zone and order the free blocks (Zone.Index · MAX_ORDER + o),
    /// and the tokens and their hash over all blocks. A check after a small operation then costs what it changed, not
    /// a pass over every block of a large guest.
    /// </summary>
    private readonly long[] _zoneFreeBlocks = new long[node.Zones.Count * Zone.MaxOrder];
    private long _tokensTotal;
    private ulong _tokenHashTotal;

    /// <summary>The last check found nothing and saw every block it kept a summary of: the next may look at changes only.</summary>
    private bool _clean;

    /// <summary>What the last check kept, saved with the guest it saw (as <see cref="BalloonCheck.Save"/>).</summary>
    public object Save() => ((int[])_freeBlocks.Clone(), (int[])_tokens.Clone(), (ulong[])_tokenHash.Clone(), _clean,
        (long[])_zoneFreeBlocks.Clone(), _tokensTotal, _tokenHashTotal);

    public void Restore(object saved)
    {
        var (freeBlocks, tokens, tokenHash, clean, zoneFreeBlocks, tokensTotal, tokenHashTotal) =
            ((int[], int[], ulong[], bool, long[], long, ulong))saved;
        freeBlocks.CopyTo(_freeBlocks, 0);
        tokens.CopyTo(_tokens, 0);
        tokenHash.CopyTo(_tokenHash, 0);
        zoneFreeBlocks.CopyTo(_zoneFreeBlocks, 0);
        (_clean, _tokensTotal, _tokenHashTotal) = (clean, tokensTotal, tokenHashTotal);
    }

    [NotState("wiring: which list head is which zone's free list of which order, fixed at boot")]
    private Dictionary<int, (Zone Zone, int Order)>? _freeListHeads;

    /// <summary>The last check looked at all of memory (the full check, or the checks after an operation falling back to
    /// it), not only at what the operation changed.</summary>
    [NotState("a statistic of the last check")]
    public bool LookedAtAll { get; private set; }

    /// <summary>Run every check over all of memory.</summary>
    public void Run()
    {
        LookedAtAll = true;
        long before = sanitizer.Total;
        Array.Clear(_freeBlocks);
        Array.Clear(_tokens);
        Array.Clear(_tokenHash);
        foreach (var zone in node.Zones) CheckZone(zone);
        CheckContent(contents.Live, contents.MaxToken);
        AddUpSummaries();
        _clean = sanitizer.Total == before;
    }

    /// <summary>The sums of every block's summary, afresh (after the full check).</summary>
    private void AddUpSummaries()
    {
        Array.Clear(_zoneFreeBlocks);
        foreach (var zone in node.Zones)
            for (int b = zone.StartPfn >> BlockOrder; b <= (zone.EndPfn - 1) >> BlockOrder; b++)
                for (int o = 0; o < Zone.MaxOrder; o++) _zoneFreeBlocks[zone.Index * Zone.MaxOrder + o] += _freeBlocks[b * Zone.MaxOrder + o];
        (_tokensTotal, _tokenHashTotal) = (0, 0);
        for (int b = 0; b < _tokens.Length; b++)
        {
            _tokensTotal += _tokens[b];
            _tokenHashTotal += _tokenHash[b];
        }
    }

    /// <summary>Take block <paramref name="block"/>'s free blocks out of (<paramref name="sign"/> -1) or into (+1) its zone's sums.</summary>
    private void AddFreeBlocks(Zone zone, int block, int sign)
    {
        for (int o = 0; o < Zone.MaxOrder; o++) _zoneFreeBlocks[zone.Index * Zone.MaxOrder + o] += sign * _freeBlocks[block * Zone.MaxOrder + o];
    }

    /// <summary>
    /// The checks after an operation that changed the MAX_ORDER blocks <paramref name="changed"/> (ascending): only
    /// those blocks when that is enough to know the full check would find nothing, else the full check.
    /// </summary>
    public void Run(IReadOnlyList<int> changed)
    {
        if (!_clean || changed.Count == pages.Changes.BlockCount || !NothingChangedWrong(changed)) Run();
        else LookedAtAll = false;
    }

    private bool NothingChangedWrong(IReadOnlyList<int> changed)
    {
        var onPcp = new HashSet<int>();
        foreach (var zone in node.Zones)
            if (!PcpPages(zone, onPcp, quiet: true)) return false;
        int[] pcpPages = Ascending(onPcp);
        // Each changed block's summary comes out of the sums, is made afresh by looking at the block, and goes back in. A
        // false return leaves the summaries half-updated: the full check then recomputes them all.
        foreach (int block in changed)
        {
            var (start, end) = BlockPages(block);
            var zone = node.ZoneOf(start);
            if (!zone.Spans(end - 1)) return false;
            AddFreeBlocks(zone, block, -1);
            Array.Clear(_freeBlocks, block * Zone.MaxOrder, Zone.MaxOrder);
            (_tokensTotal, _tokenHashTotal) = (_tokensTotal - _tokens[block], _tokenHashTotal - _tokenHash[block]);
        }
        if (!SeeBlocks(changed, pcpPages)) return false;
        foreach (int block in changed)
        {
            AddFreeBlocks(node.ZoneOf(block << BlockOrder), block, +1);
            (_tokensTotal, _tokenHashTotal) = (_tokensTotal + _tokens[block], _tokenHashTotal + _tokenHash[block]);
        }
        foreach (var zone in node.Zones)
            if (!FreeBlocksAddUp(zone)) return false;
        return ContentAddsUp();
    }

    /// <summary>The PFNs [start, end) of MAX_ORDER block <paramref name="block"/> (the last one may be short).</summary>
    private (int Start, int End) BlockPages(int block)
    {
        int start = block << BlockOrder;
        return (start, Math.Min(start + (1 << BlockOrder), pages.NrPages));
    }

    /// <summary>
    /// Changed blocks from this many on are looked at on every host CPU, a quarter of this many at a time (64: an operation
    /// that changed 256 MiB or more). Tests lower it to share small guests' blocks out too.
    /// </summary>
    [NotState("how the check shares out its work, not what it found")]
    internal int ParallelFromBlocks { get; set; } = 64;

    /// <summary>
    /// Every changed block looked at (<see cref="Scan"/>, <see cref="SeeBlockContent"/>) and its summary made: false at the
    /// first thing the full check would report. Many blocks are shared out over the host's CPUs, a run of blocks at a time:
    /// each block's look reads the guest and writes only that block's summary, so the outcome is the same in any order.
    /// Not while partial-order reduction records (its recorder is one thread's).
    /// </summary>
    private bool SeeBlocks(IReadOnlyList<int> changed, int[] pcpPages)
    {
        bool SeeBlock(int block)
        {
            var (start, end) = BlockPages(block);
            long inBlocks = 0;
            return Scan(node.ZoneOf(start), start, end, pcpPages, quiet: true, ref inBlocks) && SeeBlockContent(block, start, end);
        }
        if (changed.Count < ParallelFromBlocks || lists.Tracking)
        {
            foreach (int block in changed)
                if (!SeeBlock(block)) return false;
            return true;
        }
        FreeListHeads(); // built before the threads read it
        int blocksPerRun = Math.Max(1, ParallelFromBlocks / 4);
        var result = Parallel.For(0, (changed.Count + blocksPerRun - 1) / blocksPerRun, (run, loop) =>
        {
            for (int i = run * blocksPerRun; i < Math.Min(changed.Count, (run + 1) * blocksPerRun) && !loop.ShouldExitCurrentIteration; i++)
                if (!SeeBlock(changed[i])) loop.Stop();
        });
        return result.IsCompleted;
    }

    private void CheckZone(Zone zone)
    {
        var pcpPages = new HashSet<int>();
        PcpPages(zone, pcpPages, quiet: false);
        var onPcp = Ascending(pcpPages);
        long inBlocks = 0;
        Scan(zone, zone.StartPfn, zone.EndPfn, onPcp, quiet: false, ref inBlocks);
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

    /// <summary>
    /// Every PFN of [<paramref name="from"/>, <paramref name="to"/>) in one state, counting the pages in free blocks into
    /// <paramref name="inBlocks"/> and each free block into its MAX_ORDER block's summary. Quiet (after an operation,
    /// over one changed block): stops at the first thing the full check would report, at a free block running past
    /// <paramref name="to"/>, and at a link between a free page and anything but free pages of its order or that order's
    /// list heads; returns false then. Otherwise each finding is reported, and the result is true.
    /// </summary>
    // The loops over memory are optimised from their first call: the full check runs once per guest (and after a
    // restore), too rarely for tiered compilation to reach them before it is over.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Scan(Zone zone, int from, int to, int[] onPcp, bool quiet, ref long inBlocks)
    {
        // The page arrays as spans: reading them costs no test of partial-order reduction's recorder per page.
        ReadOnlySpan<int> mapCount = pages.MapCount.AsSpan(), pagePrivate = pages.Private.AsSpan(), count = pages.Count.AsSpan();
        ReadOnlySpan<uint> flags = pages.Flags.AsSpan();
        // The per-cpu pages are looked up by a cursor that moves up with pfn (one hash lookup per page cost more than the rest of the scan).
        int next = Array.BinarySearch(onPcp, from);
        if (next < 0) next = ~next;
        for (int pfn = from; pfn < to;)
        {
            while (next < onPcp.Length && onPcp[next] < pfn) next++;
            if (PageTable.IsBuddy(mapCount[pfn]))
            {
                int order = pagePrivate[pfn];
                int end = Math.Min(pfn + (1 << order), zone.EndPfn);
                if (quiet && ((uint)order >= Zone.MaxOrder || end > to || !FreePageLinked(zone, pfn, order))) return false;
                for (; next < onPcp.Length && onPcp[next] < end; next++)
                {
                    if (quiet) return false;
                    Report(onPcp[next], $"pfn {onPcp[next]} lies inside the free order-{order} block at pfn {pfn} but is on a per-cpu list");
                }
                for (int p = pfn + 1; (p = NextBusy(mapCount, count, p, end)) < end; p++)
                {
                    if (quiet) return false;
                    Report(p, $"pfn {p} lies inside the free order-{order} block at pfn {pfn} but is {(pages.PageBuddy(p) ? "a buddy head itself" : $"referenced (_count {pages.Count[p]})")}");
                }
                inBlocks += 1L << order;
                if ((uint)order < Zone.MaxOrder) _freeBlocks[(pfn >> BlockOrder) * Zone.MaxOrder + order]++;
                pfn = end;
                continue;
            }
            if (next < onPcp.Length && onPcp[next] == pfn)
            {
                if (count[pfn] != 0)
                {
                    if (quiet) return false;
                    Report(pfn, $"pfn {pfn} is on a per-cpu list but has _count {pages.Count[pfn]}");
                }
            }
            // tail pages of a compound page have _count 0, as have those of a non-compound block free page hinting holds
            else if (count[pfn] <= 0 && (flags[pfn] & (uint)PG.Tail) == 0 && hint?.HoldsTail(pfn) != true)
            {
                if (quiet) return false;
                Report(pfn, $"pfn {pfn} is in no state: _count {pages.Count[pfn]}, not in a free block");
            }
            // Only where a link changed: a page whose links (and its neighbours' links to it) are as the last clean check
            // left them links what it linked then, nothing free. A neighbour since freed moved lists, which marks this
            // page; one turned buddy in place is found beside this page by its own block's check (FreePageLinked).
            if (quiet && lists.LinkChanged(pfn) && lists.OnAList(pfn) && (OnFreeListSide(mapCount, lists.Next(pfn)) || OnFreeListSide(mapCount, lists.Prev(pfn))))
                return false;
            pfn++;
        }
        return true;
    }

    /// <summary>
    /// The first PFN of [<paramref name="from"/>, <paramref name="end"/>) that is a buddy head or referenced (<paramref name="end"/> if
    /// none): what no page inside a free block may be. Searched a vector at a time: after an operation most of a changed
    /// block can be free. An order-0 block has no page past its head: no search at all (after an interleaved free, most).
    /// </summary>
    private static int NextBusy(ReadOnlySpan<int> mapCount, ReadOnlySpan<int> count, int from, int end)
    {
        if (from >= end) return end;
        int head = mapCount[from..end].IndexOf(PageTable.PageBuddyMapcountValue);
        int referenced = count[from..end].IndexOfAnyExcept(0);
        int first = head < 0 ? referenced : referenced < 0 ? head : Math.Min(head, referenced);
        return first < 0 ? end : from + first;
    }

    /// <summary>Free block <paramref name="pfn"/> is doubly linked between free blocks of its order and zone, or that order's list heads.</summary>
    private bool FreePageLinked(Zone zone, int pfn, int order)
    {
        int next = lists.Next(pfn), prev = lists.Prev(pfn);
        return !PageLists.IsPoison(next) && !PageLists.IsPoison(prev) && lists.Prev(next) == pfn && lists.Next(prev) == pfn
               && FreeNeighbour(next, zone, order) && FreeNeighbour(prev, zone, order);
    }

    private bool FreeNeighbour(int node, Zone zone, int order) => lists.IsHead(node)
        ? FreeListHeads().TryGetValue(node, out var list) && list.Zone == zone && list.Order == order
        : pages.PageBuddy(node) && pages.PageOrder(node) == order && zone.Spans(node);

    /// <summary>
    /// A free block or a free list's head (what a page that is not free must not be linked to). A page (the poison values
    /// are negative, list heads lie past the last page) is read from <paramref name="mapCount"/> in place; only a list
    /// head is looked up, out of line, so that the page loop of <see cref="Scan"/> keeps this inlined.
    /// </summary>
    private bool OnFreeListSide(ReadOnlySpan<int> mapCount, int node) => (uint)node < (uint)mapCount.Length
        ? PageTable.IsBuddy(mapCount[node])
        : lists.IsHead(node) && IsFreeListHead(node);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool IsFreeListHead(int node) => FreeListHeads().ContainsKey(node);

    private Dictionary<int, (Zone Zone, int Order)> FreeListHeads()
    {
        if (_freeListHeads is null)
        {
            _freeListHeads = [];
            foreach (var zone in node.Zones)
                for (int o = 0; o < Zone.MaxOrder; o++)
                    for (int mt = 0; mt < MigrateType.Count; mt++) _freeListHeads[zone.FreeList(o, mt)] = (zone, o);
        }
        return _freeListHeads;
    }

    /// <summary>The zone's free blocks per order, as the blocks' summaries count them, are its nr_free, and add up to NR_FREE_PAGES.</summary>
    private bool FreeBlocksAddUp(Zone zone)
    {
        long sum = 0;
        for (int o = 0; o < Zone.MaxOrder; o++)
        {
            long blocks = _zoneFreeBlocks[zone.Index * Zone.MaxOrder + o];
            if (blocks != zone.NrFree[o]) return false;
            sum += blocks << o;
        }
        return sum == zone.FreePages;
    }

    /// <summary>
    /// Adds the pages on every CPU's per-cpu lists of the zone to <paramref name="onPcp"/> (each list walked once). A page
    /// listed twice, a broken list or a count that disagrees with its lists is reported; <paramref name="quiet"/> reports
    /// nothing and returns false at the first of them instead (the changed-blocks check then runs the full one).
    /// </summary>
    private bool PcpPages(Zone zone, HashSet<int> onPcp, bool quiet)
    {
        if (pcp is null) return true;
        for (int cpu = 0; cpu < pcp.Cpus; cpu++)
        {
            long listed = 0;
            foreach (var (head, order) in pcp.Lists(zone, cpu))
            {
                var walk = quiet ? lists.QuietEntries(head) : lists.Entries(head, Walker);
                while (walk.MoveNext())
                    for (int page = walk.Current; page < walk.Current + (1 << order); page++)
                    {
                        listed++;
                        if (onPcp.Add(page)) continue;
                        if (quiet) return false;
                        Report(page, $"pfn {page} is on the per-cpu lists of zone {zone.Name} twice");
                    }
                if (quiet && walk.Broken) return false;
            }
            int count = pcp.Pageset(zone, cpu).Count;
            if (listed == count) continue;
            if (quiet) return false;
            Report(-1, $"zone {zone.Name} cpu {cpu}: pcp->count = {count} but its lists hold {listed} pages");
        }
        return true;
    }

    /// <summary>The PFNs in ascending order, for <see cref="Scan"/>'s cursor.</summary>
    private static int[] Ascending(HashSet<int> pfns)
    {
        int[] sorted = [.. pfns];
        Array.Sort(sorted);
        return sorted;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckContent(long liveTokens, long maxToken)
    {
        // One bit per token handed out, kept between runs: this check runs after every operation, and a
        // pfn-per-token map would cost 32x the memory on a large guest.
        int words = (int)(maxToken >> 6) + 1;
        if (_seenTokens.Length < words) _seenTokens = new ulong[Math.Max(words, _seenTokens.Length * 2)];
        else Array.Clear(_seenTokens, 0, words);
        long live = 0;
        var content = pages.Content.AsSpan();
        for (int pfn = 0; pfn < content.Length; pfn++)
        {
            pfn = NextWithData(content, pfn);
            if (pfn < 0) break;
            if (See(content[pfn], pfn, maxToken, swapSlot: -1) != 0)
            {
                live++;
                _tokens[pfn >> BlockOrder]++;
                _tokenHash[pfn >> BlockOrder] += PageContents.Mix(content[pfn]);
            }
        }
        var slots = swap.Content;
        for (int slot = 0; slot < slots.Length; slot++) live += See(slots[slot], -1, maxToken, slot);
        if (live != liveTokens)
            sanitizer.Report(ReportKind.DataCorruption, -1, $"{liveTokens} pages of data should exist but {live} pages hold data: {liveTokens - live} lost");
    }

    /// <summary>
    /// The first page from <paramref name="i"/> on that holds data (-1: none). Pages without data (free, ballooned) come
    /// in runs, jumped over with a vector search; pages with data are read one by one, as a search per page cost more
    /// than the rest of the look at it (6.5 against 1.4 ns a page where every page holds data, 3.2 against 0.8 where every
    /// other one does).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextWithData(ReadOnlySpan<long> content, int i)
    {
        if (content[i] != 0) return i;
        if (++i == content.Length) return -1;
        if (content[i] != 0) return i;
        if (++i == content.Length) return -1;
        int skip = content[i..].IndexOfAnyExcept(0L); // from the first page not read yet
        return skip < 0 ? -1 : i + skip;
    }

    /// <summary>The block's tokens counted and hashed into its summary; false if one was never handed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool SeeBlockContent(int block, int start, int end)
    {
        (int n, ulong hash) = (0, 0UL);
        var content = pages.Content.AsSpan()[start..end];
        for (int i = 0; i < content.Length; i++)
        {
            i = NextWithData(content, i);
            if (i < 0) break;
            long t = content[i];
            if (t < 0 || t > contents.MaxToken) return false;
            n++;
            hash += PageContents.Mix(t);
        }
        (_tokens[block], _tokenHash[block]) = (n, hash);
        return true;
    }

    /// <summary>
    /// The tokens on pages (the blocks' summaries) and swap slots (the area's running sums) are as many as the live ones,
    /// and hash alike: a token never handed out on a slot makes one token too many, or, with one lost beside it, changes the
    /// sum (unless 64-bit hashes collide, as for the pages' tokens).
    /// </summary>
    private bool ContentAddsUp() =>
        _tokensTotal + swap.ContentSlots == contents.Live && _tokenHashTotal + swap.ContentHash == contents.LiveHash;

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
    private int FirstPfnHolding(long token) => pages.Content.IndexOf(token);

    private void Report(long pfn, string message) => sanitizer.Report(ReportKind.Accounting, pfn, message);
}
