using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V4_8;

/// <summary>
/// v4.8 virtballoon_oom_notify (v4.6–v5.1): registered at every probe; without DEFLATE_ON_OOM it returns NOTIFY_OK
/// having freed nothing, with it it leaks <c>oom_pages</c> (module parameter, default 256).
/// </summary>
[KernelPart("OOM notifier", PartVersion.V4_8)]
internal sealed class VirtballoonOomNotify(OomNotifyList chain, Scheduler scheduler) : BalloonOomNotifier(chain, scheduler)
{
    protected override string Function => "virtballoon_oom_notify";
    protected override bool RegistersWithoutTheFeature => true;
}
