namespace BalloonScript.Engine.Mm;

/// <summary>
/// Which MAX_ORDER blocks (2^<see cref="BlockOrder"/> PFNs: a buddy block never crosses one) had a page changed since the
/// whole-memory checks last looked: written by the page-state mutators (<see cref="PageField{T}"/>, the lru links of
/// <see cref="PageLists"/>, the host's ledger), read and cleared by the checks. Not simulated state: a restore marks
/// every block, so the checks after it look at everything.
/// </summary>
internal sealed class PageChanges(int nrPages)
{
    public const int BlockOrder = Zone.MaxOrder - 1;

    /// <summary>One byte per block, 1 = changed.</summary>
    public readonly byte[] Blocks = new byte[((nrPages - 1) >> BlockOrder) + 1];

    public void Mark(int pfn) => Blocks[pfn >> BlockOrder] = 1;

    public void MarkAll() => Array.Fill(Blocks, (byte)1);

    /// <summary>The changed blocks in PFN order, and the marks cleared.</summary>
    public List<int> Take()
    {
        var changed = new List<int>();
        for (int b = Blocks.AsSpan().IndexOf((byte)1); b >= 0 && b < Blocks.Length; b++)
            if (Blocks[b] != 0) changed.Add(b);
        Array.Clear(Blocks);
        return changed;
    }
}
