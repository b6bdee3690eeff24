using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// The mm/balloon_compaction.c entry points the virtio driver calls: enqueue a fresh page, dequeue one to give
/// back, and the insert/delete pair of its migratepage callback. One library per era
/// (<see cref="BalloonCompaction"/> for v3.8–v4.7, composed of the version's choices).
/// </summary>
internal partial interface IBalloonCompaction
{
    /// <summary>balloon_page_enqueue: allocate a page and put it on the balloon list; its PFN, or -1.</summary>
    [Preemptible]
    int Enqueue();

    /// <summary>balloon_page_alloc (5.2+): allocate a page for the balloon; its PFN, or -1.</summary>
    [Preemptible]
    int Alloc();

    /// <summary>balloon_page_enqueue (5.2+): put a page from <see cref="Alloc"/> on the balloon list.</summary>
    [Preemptible]
    void Enqueue(int page);

    /// <summary>balloon_page_dequeue: take one page off the balloon for the driver to give back; -1 if none could be taken.</summary>
    [Preemptible]
    int Dequeue();

    /// <summary>balloon_page_insert (caller holds the page lock and pages_lock).</summary>
    void BalloonPageInsert(int page);

    /// <summary>balloon_page_delete (caller holds the page lock; pages_lock where the list changes).</summary>
    void BalloonPageDelete(int page);

    /// <summary>Order-0 pages <see cref="Enqueue()"/> can still take now.</summary>
    long AllocatablePages();
}
