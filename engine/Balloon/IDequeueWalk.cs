using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The list walk of <c>balloon_page_dequeue</c>: which page the driver may take back, and the locking around
/// it. v3.16: unlocked, with an extra <c>get_page</c>; v3.18: unlocked, skipping pages without PG_private;
/// v4.5: the whole walk under pages_lock.
/// </summary>
internal partial interface IDequeueWalk
{
    /// <summary>Walk the balloon list and take one page off it for the driver; -1 if none could be taken.</summary>
    [Preemptible]
    int Dequeue();
}
