using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Virtio.V4_8;

/// <summary>
/// v4.8 virtio_balloon.c (read in a v4.8 tree; v4.5's has no such line): v3.16's fill_balloon and leak_balloon, but
/// leak_balloon, once it holds balloon_lock, asks for no more than the balloon has ("We can't release more pages than
/// taken": <c>num = min(num, vb-&gt;num_pages)</c>). Its OOM notifier asks for <c>oom_pages</c> whatever the balloon
/// holds; without the cap, a balloon smaller than that would run balloon_page_dequeue into its "balloon pages lost"
/// BUG().
/// </summary>
[KernelPart("driver fill/leak", PartVersion.V4_8)]
internal sealed class LeakNoMoreThanTaken(IBalloonCompaction balloon) : V3_16.FillUnderBalloonLock(balloon)
{
    protected override long LeakLimit(VirtioBalloon vb, long num) => Math.Min(num, vb.NumPages);
}
