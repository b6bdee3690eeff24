namespace BalloonScript.Engine.Virtio;

/// <summary>
/// The driver's OOM notifier (VIRTIO_BALLOON_F_DEFLATE_ON_OOM, v4.6+): at each OOM it leaks up to 256 pages from the
/// balloon instead of a kill (<see cref="BalloonOomNotifier"/>). Designs whose driver predates it register none. The
/// notifiers clamp the request to <c>vb-&gt;num_pages</c> as v4.8 and 6.1 leak_balloon do (<c>num = min(num,
/// vb-&gt;num_pages)</c>): the v4.5 leak the designs share has no clamp, and the notifier is the only caller that asks
/// for more than the balloon holds (an empty list with nothing isolated is a BUG() in balloon_page_dequeue).
/// </summary>
internal interface IBalloonOomNotifier
{
    /// <summary>virtballoon_probe's part: register with the OOM notifier chain, by the version's rule.</summary>
    void Probe(VirtioBalloon vb);
}
