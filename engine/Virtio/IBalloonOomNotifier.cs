namespace BalloonScript.Engine.Virtio;

/// <summary>
/// The driver's OOM notifier (VIRTIO_BALLOON_F_DEFLATE_ON_OOM, v3.19+): at each OOM it leaks up to 256 pages from the
/// balloon instead of a kill (<see cref="BalloonOomNotifier"/>). Designs whose driver predates it register none. It asks
/// for 256 pages whatever the balloon holds, the only caller that asks for more: v4.8's and 6.1's leak_balloon stop at
/// <c>vb-&gt;num_pages</c>; the v4.5 one (<c>fixed</c>'s, v3.16's code) does not, and balloon_page_dequeue, finding the
/// list empty with nothing isolated, hits its "balloon pages lost" BUG().
/// </summary>
internal interface IBalloonOomNotifier
{
    /// <summary>virtballoon_probe's part: register with the OOM notifier chain, by the version's rule.</summary>
    void Probe(VirtioBalloon vb);
}
