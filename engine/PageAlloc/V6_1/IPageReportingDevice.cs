using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// <c>struct page_reporting_dev_info</c> (include/linux/page_reporting.h, 5.7): the device free page reporting hands
/// free blocks to. <see cref="Report"/> returns once the device is done with them (it may sleep meanwhile).
/// </summary>
internal partial interface IPageReportingDevice
{
    /// <summary><c>order</c>: the smallest order reported; 0 means pageblock_order.</summary>
    int Order { get; }

    /// <summary><c>report</c>: the scatterlist's <paramref name="count"/> isolated free blocks from <paramref name="from"/>, each a first PFN and its order.</summary>
    [Preemptible]
    void Report(int[] pfns, int[] orders, int from, int count);
}
