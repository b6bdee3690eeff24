using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// The pieces every version's update_balloon_stats is made of (drivers/virtio/virtio_balloon.c): vm events from
/// <c>all_vm_events</c>, <c>si_meminfo</c>'s free and total RAM, <c>si_mem_available</c>; page counts go out as bytes
/// (<c>pages_to_bytes</c>), events as counts.
/// </summary>
internal abstract class BalloonStats(Node node, VmStat vmstat) : IBalloonStats
{
    public abstract IReadOnlyList<(string Tag, long Value)> UpdateBalloonStats();

    /// <summary>pages_to_bytes: pages &lt;&lt; PAGE_SHIFT.</summary>
    protected static long PagesToBytes(long pages) => pages << 12;

    protected long Event(VmEvent e) => vmstat.Event(e);

    protected long Global(ZoneStat item) => vmstat.Global(item);

    /// <summary>SWAP_IN, SWAP_OUT (pswpin/pswpout in bytes), MAJFLT (pgmajfault), MINFLT (pgfault: every fault, as the kernel sends it).</summary>
    protected IEnumerable<(string, long)> VmEventStats() =>
    [
        ("VIRTIO_BALLOON_S_SWAP_IN", PagesToBytes(Event(VmEvent.Pswpin))),
        ("VIRTIO_BALLOON_S_SWAP_OUT", PagesToBytes(Event(VmEvent.Pswpout))),
        ("VIRTIO_BALLOON_S_MAJFLT", Event(VmEvent.Pgmajfault)),
        ("VIRTIO_BALLOON_S_MINFLT", Event(VmEvent.Pgfault)),
    ];

    /// <summary>
    /// MEMFREE (si_meminfo's freeram: NR_FREE_PAGES, so not the per-cpu lists) and MEMTOT (totalram_pages: the zones'
    /// managed pages, which fill_balloon lowers without DEFLATE_ON_OOM).
    /// </summary>
    protected IEnumerable<(string, long)> MeminfoStats() =>
    [
        ("VIRTIO_BALLOON_S_MEMFREE", PagesToBytes(Global(ZoneStat.NrFreePages))),
        ("VIRTIO_BALLOON_S_MEMTOT", PagesToBytes(node.Zones.Sum(z => z.ManagedPages))),
    ];

    /// <summary>si_mem_available (<see cref="Node.SiMemAvailable"/>).</summary>
    protected long SiMemAvailable(bool lowWmarkWithBoost) => node.SiMemAvailable(lowWmarkWithBoost);
}
