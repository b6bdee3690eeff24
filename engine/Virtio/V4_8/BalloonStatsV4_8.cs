using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio.V4_8;

/// <summary>v4.8 update_balloon_stats: v3.16's six tags and VIRTIO_BALLOON_S_AVAIL (4.6, si_mem_available).</summary>
[KernelPart("balloon stats", PartVersion.V4_8)]
internal sealed class BalloonStatsV4_8(Node node, VmStat vmstat) : BalloonStats(node, vmstat)
{
    public override IReadOnlyList<(string Tag, long Value)> UpdateBalloonStats() =>
        [.. VmEventStats(), .. MeminfoStats(), ("VIRTIO_BALLOON_S_AVAIL", PagesToBytes(SiMemAvailable(lowWmarkWithBoost: false)))];
}
