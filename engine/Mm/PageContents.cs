using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The ledger of data the workload has written: every page of data gets a fresh content token (kept in
/// <see cref="PageTable.Content"/>, or on a swap slot while swapped out), and a token is retired only when its
/// data legitimately stops existing (the page was freed by its owner, clean page cache was dropped by reclaim —
/// its data is on disk —, or its process exited). The data-integrity check compares the tokens it finds with
/// <see cref="Live"/>: migration, swap-out and swap-in must move data, never lose or duplicate it. New data is a write
/// of the frame, which the host backs from then on (<see cref="Host.RamBlock.Write"/>).
/// </summary>
internal sealed class PageContents(PageTable pages, Host.RamBlock ram) : ISnapshotState
{
    private long _next = 1;

    /// <summary>Tokens handed out and not retired.</summary>
    public long Live { get; private set; }

    /// <summary>The highest token handed out so far.</summary>
    public long MaxToken => _next - 1;

    /// <summary>
    /// Σ <see cref="Mix"/>(t) over the live tokens (mod 2^64): with <see cref="Live"/>, what the data-integrity check
    /// compares the pages' tokens with when it looks only at the pages an operation changed. A token lost and another
    /// duplicated leave the count as it was but change the sum (unless 64-bit hashes collide).
    /// </summary>
    public ulong LiveHash { get; private set; }

    /// <summary>A token's share of <see cref="LiveHash"/>: splitmix64's finaliser, so nearby tokens spread over 64 bits.</summary>
    public static ulong Mix(long token)
    {
        ulong z = (ulong)token;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    public object Save() => (_next, Live, LiveHash);

    public void Restore(object saved)
    {
        (_next, long live, ulong hash) = ((long, long, ulong))saved;
        (Live, LiveHash) = (live, hash);
    }

    /// <summary>New data on <paramref name="pfn"/>: an anonymous fault's zeroing and the program's writes, a file read, a slab's constructor.</summary>
    public void Write(int pfn)
    {
        LiveHash += Mix(_next);
        pages.Content[pfn] = _next++;
        Live++;
        ram.Write(pfn);
    }

    /// <summary>The data on <paramref name="pfn"/> stops existing (the page is about to be freed).</summary>
    public void Retire(int pfn)
    {
        long token = pages.Content[pfn];
        if (token == 0) return;
        LiveHash -= Mix(token);
        pages.Content[pfn] = 0;
        Live--;
    }

    /// <summary>The data <paramref name="token"/> kept on a swap slot stops existing (its owner exited or freed the page
    /// while it was swapped out); the caller clears the slot.</summary>
    public void RetireSwapped(long token)
    {
        if (token == 0) return;
        LiveHash -= Mix(token);
        Live--;
    }
}
