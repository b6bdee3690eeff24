namespace BalloonScript.Engine.Virtio;

/// <summary>
/// The stats virtqueue's payload (VIRTIO_BALLOON_F_STATS_VQ): what the driver's <c>update_balloon_stats</c> writes into
/// <c>vb-&gt;stats</c> when the host asks, in the version's tags and order.
/// </summary>
internal interface IBalloonStats
{
    /// <summary>update_balloon_stats: (tag name, value) in the order the driver fills them; bytes or event counts as the kernel sends them.</summary>
    IReadOnlyList<(string Tag, long Value)> UpdateBalloonStats();
}
