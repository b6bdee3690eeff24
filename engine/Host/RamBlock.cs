using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Host;

/// <summary>
/// The host memory behind the guest's RAM (QEMU's RAMBlock of anonymous memory, 4 KiB host pages, no preallocation; read
/// in QEMU's hw/virtio/virtio-balloon.c of 5.1 and later, the versions with free page reporting):
/// which guest frames the host has backed with a page. A frame is backed when the guest first writes it (the EPT
/// violation, and the host's fault that maps a zeroed page in) and stays backed until the host discards it
/// (<c>ram_block_discard_range</c>: QEMU's <c>balloon_inflate_page</c> for an inflated frame,
/// <c>virtio_balloon_handle_report</c> for a reported block). A deflated frame stays discarded: QEMU's
/// <c>balloon_deflate_page</c> only advises MADV_WILLNEED, which maps nothing in for anonymous memory, so the guest's
/// next write faults. A <see cref="Refaults"/> is such a fault on a frame the host had discarded: the price, paid later,
/// of memory given back. The guest writes a frame when it puts data there (an anonymous fault's zeroing, a file or
/// swap read, a THP's clearing, a page table's zeroing, a migration's copy into it); allocating a frame, or putting it
/// in the balloon, writes nothing.
/// <para>
/// Invariant: <see cref="ResidentPages"/> is the number of frames in state <see cref="Backed"/>. The model's guest boots
/// with all its memory free (MemFree = MemTotal: no kernel image, memory map or reserved memory is modelled), so no frame
/// is backed at boot. For partial-order reduction each frame's state is recorded by PFN (as <c>struct page</c>), the
/// counts as shared values.
/// </para>
/// </summary>
internal sealed class RamBlock(PageTable pages, Scheduler scheduler) : ISnapshotState
{
    /// <summary>A frame's state: never written since boot, backed by a host page, or discarded by the host.</summary>
    private const byte Untouched = 0, Backed = 1, Discarded = 2;

    private readonly byte[] _state = new byte[pages.NrPages];

    /// <summary>[<see cref="ResidentIndex"/>, <see cref="FaultsIndex"/>, <see cref="RefaultsIndex"/>].</summary>
    private readonly SharedArray _counts = new(scheduler, 3);
    private const int ResidentIndex = 0, FaultsIndex = 1, RefaultsIndex = 2;

    /// <summary>Guest frames backed by host memory now: what the guest's RAM adds to QEMU's resident set.</summary>
    public long ResidentPages => _counts[ResidentIndex];

    /// <summary>Host faults on the guest's first write of a frame not backed (never written, or discarded).</summary>
    public long Faults => _counts[FaultsIndex];

    /// <summary>Of <see cref="Faults"/>, those on frames the host had discarded (inflated, or reported, then reused).</summary>
    public long Refaults => _counts[RefaultsIndex];

    /// <summary>Whether the host backs <paramref name="pfn"/> now.</summary>
    public bool IsBacked(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _state[pfn] == Backed;
    }

    /// <summary>The guest writes the <paramref name="n"/> frames from <paramref name="pfn"/>: those not backed fault in.</summary>
    public void Write(int pfn, int n = 1)
    {
        for (int end = pfn + n; pfn < end; pfn++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
            byte state = _state[pfn];
            if (state == Backed) continue;
            _state[pfn] = Backed;
            _counts.Add(ResidentIndex, 1);
            _counts.Add(FaultsIndex, 1);
            if (state == Discarded) _counts.Add(RefaultsIndex, 1);
        }
    }

    /// <summary>
    /// ram_block_discard_range over the <paramref name="n"/> frames from <paramref name="pfn"/> (MADV_DONTNEED): a
    /// backed frame's page is freed; a frame never written has nothing to free and stays as it was.
    /// </summary>
    public void Discard(int pfn, int n = 1)
    {
        for (int end = pfn + n; pfn < end; pfn++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
            if (_state[pfn] != Backed) continue;
            _state[pfn] = Discarded;
            _counts.Add(ResidentIndex, -1);
        }
    }

    public object Save() => ((byte[])_state.Clone(), _counts.Save());

    public void Restore(object saved)
    {
        var (state, counts) = ((byte[], long[]))saved;
        state.CopyTo(_state, 0);
        _counts.Restore(counts);
    }
}
