using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio.V3_16;

/// <summary>v3.16 update_balloon_stats (the same to v4.5): six tags, VIRTIO_BALLOON_S_SWAP_IN to VIRTIO_BALLOON_S_MEMTOT.</summary>
[KernelPart("balloon stats", PartVersion.V3_16)]
internal sealed class BalloonStatsV3_16(Node node, VmStat vmstat) : BalloonStats(node, vmstat)
{
    public override IReadOnlyList<(string Tag, long Value)> UpdateBalloonStats() => [.. VmEventStats(), .. MeminfoStats()];
}
