namespace BalloonScript.Engine.Host;

/// <summary>The balloon's two PFN queues (virtio_balloon: <c>inflate_vq</c>, <c>deflate_vq</c>).</summary>
internal enum VirtQueue
{
    /// <summary>"The guest no longer uses these frames": the host may take them back.</summary>
    Inflate,
    /// <summary>"The guest takes these frames back."</summary>
    Deflate,
}
