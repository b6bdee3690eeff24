using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio.V4_5;

/// <summary>
/// virtballoon_oom_notify (v3.19 to v5.1, the same function throughout; read in TROVON v3.19 and v4.5 and in
/// WindRiver 4.8.18): registered at every probe; without DEFLATE_ON_OOM it returns NOTIFY_OK having freed nothing,
/// with it it leaks <c>oom_pages</c> (module parameter, default 256) through the driver's leak_balloon, which before
/// v4.8 does not stop at what the balloon holds.
/// </summary>
[KernelPart("OOM notifier", PartVersion.V4_5)]
internal sealed class VirtballoonOomNotify(OomNotifyList chain, Scheduler scheduler) : BalloonOomNotifier(chain, scheduler)
{
    protected override string Function => "virtballoon_oom_notify";
    protected override bool RegistersWithoutTheFeature => true;
}
