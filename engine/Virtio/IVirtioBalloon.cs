using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// drivers/virtio/virtio_balloon.c as the rest of the simulation drives it: the balloon work towards a host
/// target, one fill or leak call, and the balloon's size as the guest counts it.
/// </summary>
internal partial interface IVirtioBalloon
{
    /// <summary><c>vb-&gt;num_pages</c>: balloon PFNs the guest has given (what it reports as <c>actual</c>).</summary>
    long NumPages { get; }

    /// <summary>VIRTIO_BALLOON_F_DEFLATE_ON_OOM negotiated: ballooned pages stay in managed_pages, the OOM notifier leaks them.</summary>
    bool DeflateOnOom { get; }

    /// <summary>Pages fill_balloon can still get now, above the min watermarks, without reclaim.</summary>
    long InflatablePages();

    /// <summary>"Out of puff!": fill_balloon calls that got no page and slept 200 ms.</summary>
    long OutOfPuff { get; }

    /// <summary>The balloon work after the host raised the target by <paramref name="pages"/>; returns the pages inflated.</summary>
    [Preemptible]
    long Inflate(long pages);

    /// <summary>The balloon work after the host lowered the target by <paramref name="pages"/>; returns the pages deflated.</summary>
    [Preemptible]
    long Deflate(long pages);

    /// <summary>One fill_balloon call (at most 256 PFNs); returns the PFNs added.</summary>
    [Preemptible]
    int FillBalloon(long num);

    /// <summary>One leak_balloon call (at most 256 PFNs); returns the PFNs removed.</summary>
    [Preemptible]
    int LeakBalloon(long num);

    /// <summary>
    /// PFNs enqueued by a fill_balloon that sleeps after "Out of puff!" (holding balloon_lock) and has not told the
    /// host yet: in the balloon, rightly unknown to the host until the call ends. Empty otherwise.
    /// </summary>
    ReadOnlySpan<long> UntoldPfns();
}
