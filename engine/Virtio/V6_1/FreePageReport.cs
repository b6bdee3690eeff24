using BalloonScript.Engine.Host;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Virtio.V6_1;

/// <summary>
/// The driver's free page reporting device (VIRTIO_BALLOON_F_REPORTING, feature bit 5, v5.7; read in 6.1.78
/// virtio_balloon.c): registered at the probe when the feature is negotiated, with order 0 (pageblock_order: x86 sets no
/// order of its own). virtballoon_free_page_report puts the scatterlist on the reporting virtqueue, kicks, and sleeps
/// in wait_event until the host has discarded the blocks.
/// </summary>
internal sealed partial class FreePageReport(PageReporting reporting, BalloonHost host, SimClock clock, Scheduler scheduler) : IPageReportingDevice
{
    public int Order => 0;

    /// <summary>virtballoon_probe's part: page_reporting_register(&amp;vb-&gt;pr_dev_info).</summary>
    public void Probe() => reporting.Register(this);

    /// <summary>virtballoon_free_page_report: virtqueue_add_inbuf, virtqueue_kick, wait_event(vb-&gt;acked, ...).</summary>
    [Preemptible]
    public void Report(int[] pfns, int[] orders, int from, int count)
    {
        using var _ = scheduler.Current.Path.Enter("virtballoon_free_page_report");
        int frames = host.ReceiveReport(pfns.AsSpan(from, count), orders.AsSpan(from, count));
        clock.WaitForDevice(host.AckNs(frames), "virtballoon_free_page_report: wait_event(vb->acked)");
    }
}
