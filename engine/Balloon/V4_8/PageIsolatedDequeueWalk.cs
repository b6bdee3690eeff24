using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V4_8;

/// <summary>
/// balloon_page_dequeue (v4.8, b1123ea6d3b3; the v4.9 side of unicorn-soc-425's balloon_compaction.c): v4.5's walk
/// under pages_lock (<see cref="BalloonListWalk.LockedWalk"/>), whose "raced with isolation" test is now
/// <c>PageIsolated(page)</c>. The test cannot fire: balloon_aops' <c>isolate_page</c> takes the page off the list
/// under pages_lock before the core sets PG_isolated, and putback relinks it before the core clears it, both under
/// the page lock the walk trylocks (David Hildenbrand removed it as unreachable in 2025).
/// </summary>
[KernelPart("dequeue walk", PartVersion.V4_8)]
internal sealed partial class PageIsolatedDequeueWalk(BalloonListWalk walk, PageTable pages) : IDequeueWalk
{
    /// <summary>"Raced with isolation": PageIsolated (one delegate for every dequeue).</summary>
    private Func<int, bool>? _racedWithIsolation;

    [Preemptible]
    public int Dequeue() => walk.LockedWalk(_racedWithIsolation ??= pages.PageIsolated);
}
