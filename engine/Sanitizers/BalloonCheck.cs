using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Virtio;

namespace BalloonScript.Engine.Sanitizers;

/// <summary>
/// Balloon invariants, checked between operations, when no kernel path is half-way (kernel-semantics §10.1
/// items 1–4 and 7, read per design). A page is "in the balloon" if it is on the balloon list, or carries the
/// design's balloon mark off the list (isolated by compaction). Findings:
/// <list type="bullet">
/// <item><c>host_mismatch</c>: the host holds a frame as ballooned that the guest does not have in its
/// balloon (freed, reused, leaked), or the reverse (except the batch of a fill_balloon asleep after "Out of puff!",
/// which tells the host when it wakes).</item>
/// <item><c>page_leak</c>: a former balloon page (still tagged <see cref="PageKind.Balloon"/>, never freed)
/// that is neither in the balloon, nor free, nor on any list someone could put it back from, nor parked in a
/// pagevec: nobody will ever free it.</item>
/// <item><c>balloon_unmovable</c>: a page on the balloon list compaction can never isolate again (v3.16: its
/// mapping was cleared by migration, defect 2).</item>
/// <item><c>isolated_pages</c>: <c>isolated_pages</c> differs from the balloon pages actually isolated
/// (with no compaction running, that is zero).</item>
/// <item><c>list_corruption</c>: the balloon list does not lead back to its head.</item>
/// </list>
/// A finding is reported when it first appears, not again at every later check while it persists.
/// <para>
/// After an operation, <see cref="Run(IReadOnlyList{int})"/> looks only at the MAX_ORDER blocks the operation changed
/// (<see cref="PageChanges"/>: page fields, lru links, the host's ledger), the blocks of the PFNs parked in pagevecs or
/// not yet told to the host (now and at the last check), and walks the balloon list. Every finding is about one page
/// and what the page's own fields, links, ledger entry and parked or untold state say, so the findings of the blocks
/// nobody changed are the standing ones, unchanged; the isolated count adds up what each block held when it was last
/// looked at. A broken list, or a new balloon mapping (legacy), makes the check full.
/// </para>
/// </summary>
internal sealed class BalloonCheck(PageTable pages, PageLists lists, BalloonDevInfo dev, IBalloonPageIdentity balloon,
    BalloonHost host, Sanitizer sanitizer, Pagevecs? pagevecs = null, IVirtioBalloon? driver = null) : ISnapshotState
{
    private const int BlockOrder = PageChanges.BlockOrder;

    /// <summary>
    /// <see cref="_marks"/> bits: on the balloon list (as of the last walk), parked in a pagevec, gathered and not told to
    /// the host; and, of the pages whose links changed, while <see cref="Relist"/> walks: to be passed, passed, and
    /// whether they lead onto the list (<see cref="LeadsOn"/>), and on the way being followed.
    /// </summary>
    private const byte Listed = 1, Parked = 2, Untold = 4, ToPass = 8, Passed = 16, Resolved = 32, On = 64, OnWay = 128;

    /// <summary>Per page: what the last check saw (Listed), and scratch of one check (Parked, Untold).</summary>
    private readonly byte[] _marks = new byte[pages.NrPages];

    /// <summary>Balloon pages isolated, per MAX_ORDER block, as the last check saw them.</summary>
    private readonly int[] _isolated = new int[pages.Changes.BlockCount];

    /// <summary>The blocks of the PFNs parked or untold at the last check: their pages are looked at again.</summary>
    private List<int> _lastParkedOrUntold = [];

    /// <summary>The last check walked an intact list and looked at every block since a restore: the next may look at changes only.</summary>
    private bool _clean;

    /// <summary>Every link of the list the last check walked was doubly consistent (next's prev is the page): see <see cref="Relist"/>.</summary>
    private bool _consistent;

    /// <summary>The list the last check walked was empty: no page is marked (see <see cref="Relist"/>).</summary>
    private bool _listEmpty;

    [NotState("scratch of one check")]
    private readonly List<int> _way = [];

    /// <summary>The balloon mapping (legacy's identity) at the last check.</summary>
    private int _mapping;

    /// <summary>The findings of the last check, which are not reported again while they persist.</summary>
    private HashSet<(ReportKind, long)> _standing = [];
    [NotState("scratch of one check (empty between checks)")]
    private HashSet<(ReportKind, long)> _found = [];

    /// <summary>
    /// What the last check saw and found, saved with the guest it saw: a restored guest comes with the pages changed since
    /// that check marked (<see cref="PageChanges"/>), so the next check may look at those only, as it would have there.
    /// </summary>
    public object Save() =>
        (_standing.ToArray(), (byte[])_marks.Clone(), (int[])_isolated.Clone(), _lastParkedOrUntold.ToArray(), _clean, _consistent, _listEmpty, _mapping);

    public void Restore(object saved)
    {
        var (standing, marks, isolated, lastParkedOrUntold, clean, consistent, listEmpty, mapping) =
            (((ReportKind, long)[], byte[], int[], int[], bool, bool, bool, int))saved;
        _standing.Clear();
        _standing.UnionWith(standing);
        marks.CopyTo(_marks, 0);
        isolated.CopyTo(_isolated, 0);
        (_lastParkedOrUntold, _clean, _consistent, _listEmpty, _mapping) = ([.. lastParkedOrUntold], clean, consistent, listEmpty, mapping);
    }

    /// <summary>Entries of the balloon list the last check walked: all of them, or (after an operation) the part the operation changed.</summary>
    [NotState("a statistic of the last check")]
    public int Walked { get; private set; }

    /// <summary>Check every page.</summary>
    public void Run() => Run(null);

    /// <summary>
    /// The check after an operation that changed the MAX_ORDER blocks <paramref name="changed"/> (ascending; null = look
    /// at every page).
    /// </summary>
    public void Run(IReadOnlyList<int>? changed)
    {
        if (!_clean || dev.Mapping != _mapping || changed?.Count == _isolated.Length) changed = null;
        Walked = 0;
        var parkedOrUntold = ParkedOrUntoldBlocks();
        List<int>? blocks = changed is null ? null : [.. changed.Concat(parkedOrUntold).Concat(_lastParkedOrUntold).Distinct().Order()];
        bool intact = blocks is not null && Relist(blocks);
        if (!intact)
        {
            blocks = null;
            intact = ListPages();
        }
        MarkParked(true);
        MarkUntold(true);
        if (blocks is null)
        {
            Array.Clear(_isolated);
            CheckPages(0, pages.NrPages);
        }
        else
        {
            var looked = blocks.ToHashSet();
            foreach (var finding in _standing)
                if (finding.Item2 >= 0 && !looked.Contains((int)(finding.Item2 >> BlockOrder))) _found.Add(finding);
            foreach (int block in blocks)
            {
                _isolated[block] = 0;
                int start = block << BlockOrder;
                CheckPages(start, Math.Min(start + (1 << BlockOrder), pages.NrPages));
            }
        }
        long isolated = _isolated.Sum();
        // Pages behind a break in the list look isolated: the count is only comparable on an intact list.
        if (intact && dev.IsolatedPages != isolated)
            Find(ReportKind.IsolatedPages, -1, $"balloon isolated_pages = {dev.IsolatedPages}, but {isolated} balloon pages are isolated");
        MarkParked(false);
        MarkUntold(false);
        (_standing, _found) = (_found, _standing);
        _found.Clear();
        lists.ForgetLinkChanges(changed);
        (_clean, _mapping, _lastParkedOrUntold, _listEmpty) = (intact, dev.Mapping, parkedOrUntold, lists.Empty(dev.Pages));
    }

    /// <summary>Pages a finding can be about, in chunks: runs with no balloon page, no mark and no ballooned frame are skipped.</summary>
    private const int Chunk = 64;

    /// <summary>
    /// <see cref="CheckPage"/> over [<paramref name="from"/>, <paramref name="to"/>), skipping the chunks where every page
    /// is neither marked (listed, parked, untold), nor of the balloon kind, nor held by the host: no finding is about
    /// such a page, and most of memory is such pages (vector searches, instead of one page at a time). In a chunk that
    /// mixes them (a balloon inflated into the holes of fragmented memory), such pages are passed over one by one.
    /// </summary>
    // The loops over memory are optimised from their first call: the full check runs once per guest (and after a
    // restore), too rarely for tiered compilation to reach them before it is over.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckPages(int from, int to)
    {
        var kind = pages.Kind.AsSpan();
        var ballooned = MemoryMarshal.AsBytes(host.BalloonedSpan);
        for (int chunk = from; chunk < to; chunk += Chunk)
        {
            int n = Math.Min(Chunk, to - chunk);
            var marks = _marks.AsSpan(chunk, n);
            if (!marks.ContainsAnyExcept((byte)0) && !kind.Slice(chunk, n).Contains((byte)PageKind.Balloon)
                && !ballooned.Slice(chunk, n).ContainsAnyExcept((byte)0)) continue;
            // A chunk of listed balloon pages the host holds (most of a balloon's chunks): only movability can be a finding,
            // looked at for the whole chunk at once.
            if (!marks.ContainsAnyExcept(Listed) && !kind.Slice(chunk, n).ContainsAnyExcept((byte)PageKind.Balloon)
                && !ballooned.Slice(chunk, n).ContainsAnyExcept((byte)1))
            {
                for (int pfn = chunk, end = chunk + n; (pfn = balloon.FirstUnmovableListed(pfn, end)) < end; pfn++) Unmovable(pfn);
                continue;
            }
            for (int pfn = chunk; pfn < chunk + n; pfn++)
                if (_marks[pfn] != 0 || kind[pfn] == (byte)PageKind.Balloon || ballooned[pfn] != 0) CheckPage(pfn);
        }
    }

    // Compiled in tiers, unlike the loop above: called page by page, it soon reaches the optimised tier, where
    // profile-guided optimisation inlines the design's identity test; its findings are reported out of line, so that the
    // look at a page sets up no room for building their messages.
    private void CheckPage(int pfn)
    {
        bool listed = (_marks[pfn] & Listed) != 0;
        bool balloonKind = pages.Kind[pfn] == (byte)PageKind.Balloon;
        bool offListMarked = !listed && balloonKind && balloon.HasBalloonIdentity(pfn);
        bool inBalloon = listed || offListMarked;
        if (offListMarked) _isolated[pfn >> BlockOrder]++;
        if (listed && !balloon.ListedPageMovable(pfn)) Unmovable(pfn);
        bool held = host.IsBallooned(pfn);
        if (held && !(inBalloon && balloonKind))
        {
            if (Found(ReportKind.HostMismatch, pfn)) ReportHeldOutside(pfn);
        }
        else if (!held && inBalloon && balloonKind && (_marks[pfn] & Untold) == 0 && Found(ReportKind.HostMismatch, pfn))
            ReportNeverTold(pfn);
        if (balloonKind && !inBalloon && !pages.PageBuddy(pfn) && !lists.OnAList(pfn) && (_marks[pfn] & Parked) == 0 && Found(ReportKind.PageLeak, pfn))
            ReportLeaked(pfn);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportHeldOutside(int pfn) => sanitizer.Report(ReportKind.HostMismatch, pfn,
        $"the host holds pfn {pfn} as ballooned, but the guest has it as {(PageKind)pages.Kind[pfn]} outside the balloon ({pages.DumpPage(pfn)})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportNeverTold(int pfn) => sanitizer.Report(ReportKind.HostMismatch, pfn,
        $"pfn {pfn} is in the guest's balloon, but the host was never told ({pages.DumpPage(pfn)})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportLeaked(int pfn) => sanitizer.Report(ReportKind.PageLeak, pfn, pages.Count[pfn] > 0
        ? $"pfn {pfn} left the balloon but was never freed: _count {pages.Count[pfn]} that nobody owns, on no list ({pages.DumpPage(pfn)})"
        : $"pfn {pfn} left the balloon with _count 0 but never reached the buddy allocator ({pages.DumpPage(pfn)})");

    /// <summary>A listed page compaction cannot isolate: a <c>balloon_unmovable</c> finding.</summary>
    private void Unmovable(int pfn)
    {
        // Each message is built only for a new finding: a standing one (legacy's stranded pages) is found at every check.
        if (Found(ReportKind.BalloonUnmovable, pfn)) ReportUnmovable(pfn);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportUnmovable(int pfn) =>
        sanitizer.Report(ReportKind.BalloonUnmovable, pfn, $"pfn {pfn} is on the balloon list but can never be isolated again ({pages.DumpPage(pfn)})");

    /// <summary>The blocks of the PFNs parked in some CPU's pagevec or gathered by a sleeping fill_balloon, ascending.</summary>
    private List<int> ParkedOrUntoldBlocks()
    {
        var pfns = new List<int>();
        if (pagevecs is not null)
            for (int cpu = 0; cpu < pagevecs.Cpus; cpu++) pfns.AddRange(pagevecs.LruAdd(cpu));
        if (driver is not null)
            foreach (int pfn in driver.UntoldPfns()) pfns.Add(pfn);
        return [.. pfns.Select(pfn => pfn >> BlockOrder).Distinct().Order()];
    }

    /// <summary>Mark (or unmark) the pages parked in some CPU's pagevec: the pagevec holds a reference and will drop it.</summary>
    private void MarkParked(bool parked)
    {
        if (pagevecs is null) return;
        for (int cpu = 0; cpu < pagevecs.Cpus; cpu++)
            foreach (int pfn in pagevecs.LruAdd(cpu)) Mark(pfn, Parked, parked);
    }

    /// <summary>Mark (or unmark) the PFNs a sleeping fill_balloon has gathered and not yet told the host.</summary>
    private void MarkUntold(bool untold)
    {
        if (driver is null) return;
        foreach (int pfn in driver.UntoldPfns()) Mark(pfn, Untold, untold);
    }

    private void Mark(int pfn, byte bit, bool on) => _marks[pfn] = (byte)(on ? _marks[pfn] | bit : _marks[pfn] & ~bit);

    /// <summary>Mark the pages reachable from the balloon list head; false (and a finding) if the walk does not come back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ListPages()
    {
        // Between checks only Listed bits are set (Parked and Untold are scratch of one check).
        Array.Clear(_marks);
        _consistent = false;
        bool consistent = true;
        int node = lists.Next(dev.Pages), prev = dev.Pages;
        for (int steps = 0; node != dev.Pages; steps++)
        {
            if (PageLists.IsPoison(node) || lists.IsHead(node) || (_marks[node] & Listed) != 0 || steps > pages.NrPages)
            {
                Find(ReportKind.ListCorruption, -1, $"the balloon list does not lead back to its head (stuck at {(PageLists.IsPoison(node) ? "a poisoned link" : lists.IsHead(node) ? "another list head" : $"pfn {node} again")})");
                return false;
            }
            consistent &= lists.Prev(node) == prev;
            Mark(node, Listed, true);
            (prev, node) = (node, lists.Next(node));
            Walked++;
        }
        _consistent = consistent && lists.Prev(dev.Pages) == prev;
        return true;
    }

    /// <summary>
    /// The list marks afresh after an operation, from a walk of as much of the balloon list as the operation changed;
    /// false, with nothing reported, when that is not enough to know (the full walk then runs, and says what is wrong).
    /// <para>
    /// The last walk found the list intact and every link on it doubly consistent (<see cref="_consistent"/>). Since then
    /// every list operation marked the pages at both ends of each link it set or undid (<see cref="PageLists.LinkChanged"/>),
    /// so an unmarked page still has its links and its neighbours still lead to it: a stretch of unmarked pages of that
    /// list is still one piece, and an unmarked page not on it is still off it. So the walk goes from the head, checking
    /// each link both ways, and may stop at an unmarked page once it has passed every marked page of the last list that
    /// still leads onto the list (<see cref="LeadsOn"/>): what follows is the rest of the list the last walk saw, unmarked
    /// to its end (a marked page there would be reached twice, against its one prev link). A small operation on a guest
    /// with a large balloon walks a few pages, not the whole list.
    /// </para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Relist(List<int> blocks)
    {
        if (!_consistent) return false;
        bool intact = false;
        int toPass = -1; // the marked pages of the last list still to be passed, counted when the walk first could stop
        // From a list that was empty no page is marked, and every page the walk passes is on the list if it ends intact.
        byte passed = _listEmpty ? Listed : Passed;
        // The marks, the head and the count of pages walked in locals: a walk after inflating 512 MiB passes 131,072 changed
        // pages, and read from this check's fields they were loaded, and the count stored, at every one.
        var (marks, head, nrPages) = (_marks, dev.Pages, pages.NrPages);
        int walked = Walked, node = lists.Next(head), prev = head;
        for (; walked <= nrPages; walked++)
        {
            if (PageLists.IsPoison(node) || (lists.IsHead(node) && node != head) || lists.Prev(node) != prev) break;
            if (node == head)
            {
                intact = true;
                break;
            }
            // Each link checked both ways: no page is reached twice (it has one prev link), so the walk ends.
            if (lists.LinkChanged(node))
            {
                if ((marks[node] & ToPass) != 0) toPass--;
                marks[node] |= passed;
            }
            else if (marks[node] != Listed) break; // an unmarked page cannot have come onto the list
            else
            {
                if (toPass < 0) toPass = ToBePassed(blocks);
                if (toPass == 0)
                {
                    intact = true; // the rest is the list the last walk saw
                    break;
                }
            }
            (prev, node) = (node, lists.Next(node));
        }
        Walked = walked;
        if (!intact) return false;
        // From an empty list (a workload before any balloon, a balloon's first inflation) nothing is left to unmark.
        if (_listEmpty) return true;
        // The marked pages of the last list not passed have left it.
        foreach (int pfn in lists.LinkChangesIn(blocks)) _marks[pfn] = (byte)((_marks[pfn] & Passed) != 0 ? Listed : 0);
        return true;
    }

    /// <summary>
    /// The marked pages of the last list, not passed yet, that lead onto the list (<see cref="LeadsOn"/>), each marked
    /// <see cref="ToPass"/>; <see cref="int.MaxValue"/> (the walk goes on to the head) if that cannot be told.
    /// </summary>
    private int ToBePassed(List<int> blocks)
    {
        int toPass = 0;
        foreach (int pfn in lists.LinkChangesIn(blocks))
        {
            if ((_marks[pfn] & (Listed | Passed)) != Listed) continue;
            switch (LeadsOn(pfn))
            {
                case null: return int.MaxValue;
                case true:
                    _marks[pfn] |= ToPass;
                    toPass++;
                    break;
            }
        }
        return toPass;
    }

    /// <summary>
    /// Whether marked page <paramref name="pfn"/> leads onto the balloon list: following next links, each checked both
    /// ways, through marked pages to the list's head or an unmarked page of the last list (true), or to a poisoned link,
    /// another list's head or an unmarked page off the last list (false); null if a link is not doubly consistent or the
    /// way goes round without an end. The answer is kept for every marked page on the way (<see cref="Resolved"/>), so
    /// that the marked pages of one operation are followed once in all.
    /// </summary>
    private bool? LeadsOn(int pfn)
    {
        _way.Clear();
        bool? leadsOn = null;
        for (int node = pfn; ;)
        {
            if ((_marks[node] & Resolved) != 0)
            {
                leadsOn = (_marks[node] & On) != 0;
                break;
            }
            if ((_marks[node] & OnWay) != 0) return null; // round without an end
            _marks[node] |= OnWay;
            _way.Add(node);
            int next = lists.Next(node);
            if (PageLists.IsPoison(next)) leadsOn = false;
            else if (lists.Prev(next) != node) return null;
            else if (next == dev.Pages) leadsOn = true;
            else if (lists.IsHead(next)) leadsOn = false;
            else if (!lists.LinkChanged(next)) leadsOn = _marks[next] == Listed;
            else
            {
                node = next;
                continue;
            }
            break;
        }
        if (leadsOn is not { } on) return null;
        foreach (int n in _way) _marks[n] |= (byte)(Resolved | (on ? On : 0));
        return on;
    }

    private void Find(ReportKind kind, long pfn, string message)
    {
        if (Found(kind, pfn)) sanitizer.Report(kind, pfn, message);
    }

    /// <summary>A finding of this check; true if it is new (not standing since the last check): the caller reports it then.</summary>
    private bool Found(ReportKind kind, long pfn)
    {
        _found.Add((kind, pfn));
        return !_standing.Contains((kind, pfn));
    }
}
