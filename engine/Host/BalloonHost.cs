using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Host;

/// <summary>
/// The hypervisor's side of the virtio balloon: its own ledger (a bitmap) of the guest frames it holds as
/// ballooned, in 4 KiB balloon PFNs (= guest PFNs on x86). Only what <c>tell_host</c> puts on a queue changes
/// it. A frame inflated while already ballooned, or deflated while not ballooned, means guest and host
/// disagree: a <c>host_mismatch</c> report, and the ledger keeps its state.
/// </summary>
internal sealed class BalloonHost(PageTable pages, Sanitizer sanitizer) : ISnapshotState
{
    private readonly bool[] _ballooned = new bool[pages.NrPages];

    /// <summary>Frames the host holds as ballooned.</summary>
    public long Ballooned { get; private set; }

    public bool IsBallooned(int pfn) => _ballooned[pfn];

    public object Save() => (_ballooned.Clone(), Ballooned);

    public void Restore(object saved)
    {
        var (ballooned, count) = ((object, long))saved;
        ((bool[])ballooned).CopyTo(_ballooned, 0);
        Ballooned = count;
    }

    /// <summary>Handle one buffer of PFNs the guest kicked on <paramref name="vq"/>.</summary>
    public void Receive(VirtQueue vq, ReadOnlySpan<int> pfns)
    {
        bool inflate = vq == VirtQueue.Inflate;
        foreach (int pfn in pfns)
        {
            if (pfn < 0 || pfn >= _ballooned.Length)
            {
                sanitizer.Report(ReportKind.HostMismatch, pfn, $"host: {vq} of pfn {pfn}, outside guest memory [0, {_ballooned.Length})");
                continue;
            }
            if (_ballooned[pfn] == inflate)
            {
                sanitizer.Report(ReportKind.HostMismatch, pfn,
                    inflate ? $"host: inflate of pfn {pfn}, which the host already holds as ballooned"
                            : $"host: deflate of pfn {pfn}, which the host does not hold as ballooned");
                continue;
            }
            _ballooned[pfn] = inflate;
            Ballooned += inflate ? 1 : -1;
        }
    }
}
