using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio.V6_1;

/// <summary>
/// 6.1 update_balloon_stats (Debian's config: VM_EVENT_COUNTERS and HUGETLB_PAGE on): the vm events, then
/// VIRTIO_BALLOON_S_HTLB_PGALLOC / _PGFAIL (htlb_buddy_alloc_success / _fail: no hugetlbfs pool here, so 0), MEMFREE,
/// MEMTOT, AVAIL, and VIRTIO_BALLOON_S_CACHES (NR_FILE_PAGES in bytes). Ten tags; the driver sends only those it filled.
/// </summary>
[KernelPart("balloon stats", PartVersion.V6_1)]
internal sealed class BalloonStatsV6_1(Node node, VmStat vmstat) : BalloonStats(node, vmstat)
{
    public override IReadOnlyList<(string Tag, long Value)> UpdateBalloonStats() =>
    [
        .. VmEventStats(),
        ("VIRTIO_BALLOON_S_HTLB_PGALLOC", Event(VmEvent.HtlbBuddyAllocSuccess)),
        ("VIRTIO_BALLOON_S_HTLB_PGFAIL", Event(VmEvent.HtlbBuddyAllocFail)),
        .. MeminfoStats(),
        ("VIRTIO_BALLOON_S_AVAIL", PagesToBytes(SiMemAvailable(lowWmarkWithBoost: true))),
        ("VIRTIO_BALLOON_S_CACHES", PagesToBytes(Global(ZoneStat.NrFilePages))),
    ];
}
