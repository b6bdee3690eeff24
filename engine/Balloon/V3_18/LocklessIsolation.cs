using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V3_18;

/// <summary>
/// d6d86c0 (v3.18 isolate_migratepages_block): <c>balloon_page_movable(page)</c> then
/// <c>balloon_page_isolate(page)</c>, whatever lru_lock is doing: isolation needs only the page lock and pages_lock.
/// </summary>
[KernelPart("scanner isolation", PartVersion.V3_18)]
internal sealed partial class LocklessIsolation(IBalloonMovability identity, BalloonPageOps balloon) : IScannerIsolation
{
    [Preemptible]
    public bool IsolateFromScanner(int pfn, bool lruLocked) => identity.Movable(pfn) && balloon.BalloonPageIsolate(pfn);
}
