using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// What the v3.19+ OOM notifiers share: leak up to 256 balloon PFNs, update <c>actual</c>, report the pages freed (PFNs
/// and pages are one on x86, so 6.1's division by VIRTIO_BALLOON_PAGES_PER_PAGE changes nothing). The versions differ
/// in when they register (<see cref="RegistersWithoutTheFeature"/>) and in their name.
/// </summary>
internal abstract partial class BalloonOomNotifier(OomNotifyList chain, Scheduler scheduler) : IBalloonOomNotifier, IOomNotifier
{
    /// <summary>v4.8's <c>oom_pages</c> default (OOM_VBALLOON_DEFAULT_PAGES), 6.1's VIRTIO_BALLOON_OOM_NR_PAGES.</summary>
    public const int OomNrPages = 256;

    [NotState("wiring: the driver, set when it probes")]
    private VirtioBalloon? _vb;

    /// <summary>The kernel function's name, for the call path.</summary>
    protected abstract string Function { get; }

    /// <summary>Registered at every probe (v3.19–5.1, the feature tested in the callback) or only once negotiated (5.7+).</summary>
    protected abstract bool RegistersWithoutTheFeature { get; }

    public void Probe(VirtioBalloon vb)
    {
        _vb = vb;
        if (vb.DeflateOnOom || RegistersWithoutTheFeature) chain.Register(this);
    }

    [Preemptible]
    public long OomNotify()
    {
        using var _ = scheduler.Current.Path.Enter(Function);
        if (!_vb!.DeflateOnOom) return 0; // NOTIFY_OK, *freed unchanged
        long freed = _vb.LeakBalloon(OomNrPages) / VirtioBalloon.PagesPerPage; // leak_balloon itself takes no more than the balloon has
        _vb.UpdateBalloonSize();
        return freed;
    }
}
