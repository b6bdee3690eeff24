namespace BalloonScript.Engine.Mm;

/// <summary>What a physical page is used for, as <c>page_map()</c> shows it. Not kernel state: a tag the
/// simulator keeps beside <c>struct page</c> so a picture of memory can be drawn.</summary>
public enum PageKind : byte
{
    Free = 0,
    Anon = 1,
    File = 2,
    Slab = 3,
    Balloon = 4,
    /// <summary>Allocated by a high-order allocation request (THP-like) or another kernel user.</summary>
    Kernel = 5,
    /// <summary>Free page held by compaction's free scanner (isolated from the buddy lists).</summary>
    Isolated = 6,
    /// <summary>A page that holds a process's page table (unmovable kernel memory; NR_PAGETABLE for PTE tables).</summary>
    PageTable = 7,
}
