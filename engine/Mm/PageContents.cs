using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The ledger of data the workload has written: every page of data gets a fresh content token (kept in
/// <see cref="PageTable.Content"/>, or on a swap slot while swapped out), and a token is retired only when its
/// data legitimately stops existing (the page was freed by its owner, clean page cache was dropped by reclaim —
/// its data is on disk —, or its process exited). The data-integrity check compares the tokens it finds with
/// <see cref="Live"/>: migration, swap-out and swap-in must move data, never lose or duplicate it.
/// </summary>
internal sealed class PageContents(PageTable pages) : ISnapshotState
{
    private long _next = 1;

    /// <summary>Tokens handed out and not retired.</summary>
    public long Live { get; private set; }

    /// <summary>The highest token handed out so far.</summary>
    public long MaxToken => _next - 1;

    public object Save() => (_next, Live);

    public void Restore(object saved)
    {
        (_next, long live) = ((long, long))saved;
        Live = live;
    }

    /// <summary>New data on <paramref name="pfn"/>.</summary>
    public void Write(int pfn)
    {
        pages.Content[pfn] = _next++;
        Live++;
    }

    /// <summary>The data on <paramref name="pfn"/> stops existing (the page is about to be freed).</summary>
    public void Retire(int pfn)
    {
        if (pages.Content[pfn] == 0) return;
        pages.Content[pfn] = 0;
        Live--;
    }

    /// <summary>The data kept on a swap slot stops existing (its owner exited or freed the page while it was swapped out).</summary>
    public void RetireSwapped(ref long slotContent)
    {
        if (slotContent == 0) return;
        slotContent = 0;
        Live--;
    }
}
