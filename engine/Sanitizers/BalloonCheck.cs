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
/// </summary>
internal sealed class BalloonCheck(PageTable pages, PageLists lists, BalloonDevInfo dev, IBalloonPageIdentity balloon,
    BalloonHost host, Sanitizer sanitizer, Pagevecs? pagevecs = null, IVirtioBalloon? driver = null) : ISnapshotState
{
    [NotState("scratch of one check")]
    private readonly bool[] _parked = new bool[pages.NrPages];
    [NotState("scratch of one check")]
    private readonly bool[] _untold = new bool[pages.NrPages];
    [NotState("scratch of one check")]
    private readonly bool[] _listed = new bool[pages.NrPages];
    /// <summary>The findings of the last check, which are not reported again while they persist.</summary>
    private HashSet<(ReportKind, long)> _standing = [];
    [NotState("scratch of one check (empty between checks)")]
    private HashSet<(ReportKind, long)> _found = [];

    public object Save() => _standing.ToArray();

    public void Restore(object saved)
    {
        _standing.Clear();
        _standing.UnionWith(((ReportKind, long)[])saved);
    }

    public void Run()
    {
        bool intact = ListPages();
        MarkParked(true);
        MarkUntold(true);
        long isolated = 0;
        for (int pfn = 0; pfn < pages.NrPages; pfn++)
        {
            bool balloonKind = pages.Kind[pfn] == (byte)PageKind.Balloon;
            bool offListMarked = !_listed[pfn] && balloonKind && balloon.HasBalloonIdentity(pfn);
            bool inBalloon = _listed[pfn] || offListMarked;
            if (offListMarked) isolated++;
            if (_listed[pfn] && !balloon.ListedPageMovable(pfn))
                Find(ReportKind.BalloonUnmovable, pfn, $"pfn {pfn} is on the balloon list but can never be isolated again ({pages.DumpPage(pfn)})");
            if (host.IsBallooned(pfn) && !(inBalloon && balloonKind))
                Find(ReportKind.HostMismatch, pfn, $"the host holds pfn {pfn} as ballooned, but the guest has it as {(PageKind)pages.Kind[pfn]} outside the balloon ({pages.DumpPage(pfn)})");
            else if (!host.IsBallooned(pfn) && inBalloon && balloonKind && !_untold[pfn])
                Find(ReportKind.HostMismatch, pfn, $"pfn {pfn} is in the guest's balloon, but the host was never told ({pages.DumpPage(pfn)})");
            if (balloonKind && !inBalloon && !pages.PageBuddy(pfn) && !lists.OnAList(pfn) && !_parked[pfn])
                Find(ReportKind.PageLeak, pfn, pages.Count[pfn] > 0
                    ? $"pfn {pfn} left the balloon but was never freed: _count {pages.Count[pfn]} that nobody owns, on no list ({pages.DumpPage(pfn)})"
                    : $"pfn {pfn} left the balloon with _count 0 but never reached the buddy allocator ({pages.DumpPage(pfn)})");
        }
        // Pages behind a break in the list look isolated: the count is only comparable on an intact list.
        if (intact && dev.IsolatedPages != isolated)
            Find(ReportKind.IsolatedPages, -1, $"balloon isolated_pages = {dev.IsolatedPages}, but {isolated} balloon pages are isolated");
        MarkParked(false);
        MarkUntold(false);
        (_standing, _found) = (_found, _standing);
        _found.Clear();
    }

    /// <summary>Mark (or unmark) the pages parked in some CPU's pagevec: the pagevec holds a reference and will drop it.</summary>
    private void MarkParked(bool parked)
    {
        if (pagevecs is null) return;
        for (int cpu = 0; cpu < pagevecs.Cpus; cpu++)
            foreach (int pfn in pagevecs.LruAdd(cpu)) _parked[pfn] = parked;
    }

    /// <summary>Mark (or unmark) the PFNs a sleeping fill_balloon has gathered and not yet told the host.</summary>
    private void MarkUntold(bool untold)
    {
        if (driver is null) return;
        foreach (int pfn in driver.UntoldPfns()) _untold[pfn] = untold;
    }

    /// <summary>Mark the pages reachable from the balloon list head; false (and a finding) if the walk does not come back.</summary>
    private bool ListPages()
    {
        Array.Clear(_listed);
        int node = lists.Next(dev.Pages);
        for (int steps = 0; node != dev.Pages; steps++)
        {
            if (PageLists.IsPoison(node) || lists.IsHead(node) || _listed[node] || steps > pages.NrPages)
            {
                Find(ReportKind.ListCorruption, -1, $"the balloon list does not lead back to its head (stuck at {(PageLists.IsPoison(node) ? "a poisoned link" : lists.IsHead(node) ? "another list head" : $"pfn {node} again")})");
                return false;
            }
            _listed[node] = true;
            node = lists.Next(node);
        }
        return true;
    }

    private void Find(ReportKind kind, long pfn, string message)
    {
        _found.Add((kind, pfn));
        if (!_standing.Contains((kind, pfn))) sanitizer.Report(kind, pfn, message);
    }

}
