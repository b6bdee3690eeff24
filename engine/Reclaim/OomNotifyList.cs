using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// mm/oom_kill.c's <c>oom_notify_list</c> (v3.16, still there in 6.1): the blocking notifier chain out_of_memory calls
/// before it kills, and <c>register_oom_notifier</c>. Shared by every design's OOM killer; only a driver that
/// negotiated VIRTIO_BALLOON_F_DEFLATE_ON_OOM puts anything on it here.
/// </summary>
internal sealed partial class OomNotifyList
{
    [NotState("registered when the driver probes, fixed for the simulation")]
    private readonly List<IOomNotifier> _chain = [];

    /// <summary>register_oom_notifier (one block per driver here, so priorities never matter).</summary>
    public void Register(IOomNotifier nb) => _chain.Add(nb);

    /// <summary>blocking_notifier_call_chain(&amp;oom_notify_list, 0, &amp;freed): every block adds what it freed.</summary>
    [Preemptible]
    public long CallChain()
    {
        long freed = 0;
        foreach (var nb in _chain) freed += nb.OomNotify();
        return freed;
    }
}
