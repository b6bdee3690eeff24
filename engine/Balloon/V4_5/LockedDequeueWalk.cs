using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V4_5;

/// <summary>
/// balloon_page_dequeue (v4.5, Minchan Kim's "virtio_balloon: fix race between migration and ballooning";
/// TROVON v4.6 balloon_compaction.c): the whole walk runs under pages_lock (<see cref="BalloonListWalk.LockedWalk"/>);
/// a trylocked page without PG_private has raced with isolation and is skipped.
/// </summary>
[KernelPart("dequeue walk", PartVersion.V4_5)]
internal sealed partial class LockedDequeueWalk(BalloonListWalk walk, PageTable pages) : IDequeueWalk
{
    /// <summary>"Raced with isolation": the page lost PG_private (one delegate for every dequeue).</summary>
    private Func<int, bool>? _racedWithIsolation;

    [Preemptible]
    public int Dequeue() => walk.LockedWalk(_racedWithIsolation ??= page => !pages.PagePrivate(page));
}
