using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V6_1;

/// <summary>
/// 6.1 virtio_balloon_oom_notify: back on the OOM notifier chain in 5.7 (the revert of 5.2's shrinker), registered
/// only when DEFLATE_ON_OOM was negotiated; leaks VIRTIO_BALLOON_OOM_NR_PAGES (256, no module parameter any more).
/// </summary>
[KernelPart("OOM notifier", PartVersion.V6_1)]
internal sealed class VirtioBalloonOomNotify(OomNotifyList chain, Scheduler scheduler) : BalloonOomNotifier(chain, scheduler)
{
    protected override string Function => "virtio_balloon_oom_notify";
    protected override bool RegistersWithoutTheFeature => false;
}
