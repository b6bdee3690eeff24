using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// A design's pre-4.8 balloon seen through <see cref="IMovablePageIsolation"/>, for compaction that expects generic
/// non-LRU movable pages (the interim <c>v6.1</c> design, until the v6.1 balloon with <c>balloon_mops</c> and the v6.1
/// migration land): <c>__PageMovable</c> is the balloon's <c>__is_movable_balloon_page</c> (<see cref="IBalloonMovability"/>), <c>PageIsolated</c>
/// a balloon page no longer <c>balloon_page_movable</c> (v3.18: PG_private clear, off the list), and
/// <c>isolate_movable_page</c> the design's scanner isolation (<see cref="IScannerIsolation"/>: balloon_page_movable,
/// then balloon_page_isolate, which takes the isolation reference and drops it on failure as isolate_movable_page does).
/// <para>
/// An isolated balloon page is counted in NR_ISOLATED_FILE, as v3.16's acct_isolated counted it: the borrowed v3.16
/// migration lowers the count for every page it migrates or puts back. (6.1 counts only LRU pages.)
/// </para>
/// </summary>
internal sealed class ScannerIsolationMovablePage(Node node, IBalloonMovability movability, IScannerIsolation isolation) : IMovablePageIsolation
{
    public const int EBusy = -16;

    public bool PageMovable(int pfn) => movability.IsMovableBalloonPage(pfn);

    public bool PageIsolated(int pfn) => movability.IsMovableBalloonPage(pfn) && !movability.Movable(pfn);

    public int IsolateMovablePage(int pfn, IsolateMode mode)
    {
        if (!isolation.IsolateFromScanner(pfn, lruLocked: false)) return EBusy;
        node.ZoneOf(pfn).Stat[(int)ZoneStat.NrIsolatedFile]++;
        return 0;
    }
}
