using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_16;

/// <summary>
/// isolate_migratepages_range (v3.16): <c>if (balloon_page_movable(page)) { if (locked &amp;&amp;
/// balloon_page_isolate(page)) goto isolate_success; }</c> — a balloon page is isolated only while the scanner
/// happens to hold lru_lock, which it takes only for an LRU page (defect 3; Khlebnikov v2 3/6).
/// </summary>
[KernelPart("scanner isolation", PartVersion.V3_16)]
internal sealed partial class LruLockedIsolation(IBalloonMovability identity, BalloonPageOps balloon) : IScannerIsolation
{
    [Preemptible]
    public bool IsolateFromScanner(int pfn, bool lruLocked) =>
        identity.Movable(pfn) && lruLocked && balloon.BalloonPageIsolate(pfn);
}
