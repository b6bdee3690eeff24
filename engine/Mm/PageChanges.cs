using System.Runtime.InteropServices;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Marks on every chunk of 2^<see cref="ChunkOrder"/> PFNs, written by the page-state mutators (<see cref="PageField{T}"/>,
/// the lru links of <see cref="PageLists"/>, the host's ledger) with one store (<see cref="Written"/>). Saved with the
/// pages they mark (<see cref="PageTable"/>), as the checks save what they last saw: a restored guest is checked as it
/// would have been where it was saved. Three readers:
/// <list type="bullet">
/// <item>the whole-memory checks (<see cref="Take"/>): which MAX_ORDER blocks (2^<see cref="BlockOrder"/> PFNs: a buddy
/// block never crosses one) had a page changed since they last looked;</item>
/// <item>the page allocator's free_pages_check / check_new_page (<see cref="PageAlloc.PageStateChecks"/>): a chunk the free
/// path left <see cref="Clean"/> — every page free as free_pages_prepare leaves it — and no one wrote since needs
/// neither checking nor clearing again, so a high-order block's tail pages are not read or written page by page;</item>
/// <item>a restore (<see cref="DirtyRuns"/>): restoring the snapshot the simulation was last restored from, the page
/// arrays copy back only the chunks written since (an exploration restores its race's prepared state once per schedule).</item>
/// </list>
/// </summary>
internal sealed class PageChanges
{
    public const int BlockOrder = Zone.MaxOrder - 1;
    public const int ChunkOrder = 6;
    public const int ChunkPages = 1 << ChunkOrder;

    /// <summary>A page of the chunk was written since the checks last looked.</summary>
    public const byte Changed = 1;

    /// <summary>Every page of the chunk is as free_pages_prepare leaves a page it passed, and none was written since.</summary>
    public const byte Clean = 2;

    /// <summary>A page of the chunk was written since the last restore.</summary>
    public const byte Dirty = 4;

    /// <summary>What a write stores: changed for the checks, dirty for the next restore, and no longer clean.</summary>
    public const byte Written = Changed | Dirty;

    private const int ChunksPerBlock = 1 << (BlockOrder - ChunkOrder);
    private const ulong ChangedBytes = 0x0101010101010101UL;

    /// <summary>One byte per chunk, whole blocks of them (a block's chunks are two ulongs).</summary>
    public readonly byte[] Marks;

    /// <summary>The number of MAX_ORDER blocks.</summary>
    public readonly int BlockCount;

    private readonly int _nrPages;

    /// <summary>The runs of <see cref="DirtyRuns"/>, worked out once per restore (every part's restore reads them).</summary>
    private List<(int Start, int Count)>? _dirtyRuns;

    public PageChanges(int nrPages)
    {
        _nrPages = nrPages;
        BlockCount = ((nrPages - 1) >> BlockOrder) + 1;
        Marks = new byte[BlockCount * ChunksPerBlock];
    }

    public void Mark(int pfn) => Marks[pfn >> ChunkOrder] = Written;

    /// <summary>After a restore (every part restored): the marks <paramref name="saved"/> with the pages, none dirty.</summary>
    public void Restored(byte[] saved)
    {
        for (int c = 0; c < Marks.Length; c++) Marks[c] = (byte)(saved[c] & ~Dirty);
        _dirtyRuns = null;
    }

    /// <summary>During a restore: the chunks written since the last restore, as runs of PFNs in order (the last run cut
    /// at the last page).</summary>
    public List<(int Start, int Count)> DirtyRuns() => _dirtyRuns ??= FindDirtyRuns();

    private List<(int Start, int Count)> FindDirtyRuns()
    {
        var runs = new List<(int, int)>();
        for (int c = 0; c < Marks.Length; c++)
        {
            if ((Marks[c] & Dirty) == 0) continue;
            int first = c;
            while (c + 1 < Marks.Length && (Marks[c + 1] & Dirty) != 0) c++;
            int start = first << ChunkOrder;
            if (start < _nrPages) runs.Add((start, Math.Min((c + 1) << ChunkOrder, _nrPages) - start));
        }
        return runs;
    }

    /// <summary>The blocks with a changed chunk in PFN order, and the changed marks cleared (the clean ones kept).</summary>
    public List<int> Take()
    {
        var changed = new List<int>();
        var words = MemoryMarshal.Cast<byte, ulong>(Marks.AsSpan());
        for (int b = 0; b < BlockCount; b++)
        {
            ref ulong w0 = ref words[2 * b], w1 = ref words[2 * b + 1];
            if (((w0 | w1) & ChangedBytes) == 0) continue;
            changed.Add(b);
            w0 &= ~ChangedBytes;
            w1 &= ~ChangedBytes;
        }
        return changed;
    }

    /// <summary>Chunk <paramref name="chunk"/> is marked <see cref="Clean"/>.</summary>
    public bool IsClean(int chunk) => (Marks[chunk] & Clean) != 0;

    /// <summary>The chunks of [<paramref name="pfn"/>, +<paramref name="n"/>), whole chunks, marked <see cref="Clean"/>.</summary>
    public void SetClean(int pfn, int n)
    {
        foreach (ref byte m in Marks.AsSpan(pfn >> ChunkOrder, n >> ChunkOrder)) m |= Clean;
    }
}
