using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Workload;

/// <summary>
/// The pages that hold processes' page tables (x86-64). A fault allocates each table its address lacks, top down
/// (<c>__pud_alloc</c>, <c>__pmd_alloc</c>, <c>__pte_alloc</c>: <c>pud_alloc_one</c>, <c>pmd_alloc_one</c>,
/// <c>pte_alloc_one</c>), an order-0 page of unmovable kernel memory with the version's <see cref="FaultGfp.Table"/>
/// mask, whose constructor counts it in NR_PAGETABLE at the version's levels (<see cref="FaultGfp.TableLevelsCounted"/>).
/// munmap and exit_mmap give them back (<see cref="Munmap"/>, which cannot take this class: the allocator's OOM killer
/// calls exit_mmap).
/// </summary>
internal sealed partial class PageTablePages(PageTable pages, Node node, IPageAllocator allocator, Lru lru, FaultGfp gfp, Host.RamBlock ram)
{
    /// <summary>
    /// The tables virtual page <paramref name="index"/> of <paramref name="process"/> lacks, allocated and populated;
    /// false if one could not be had (the fault's VM_FAULT_OOM), or the allocation's OOM kill chose the process itself
    /// (<paramref name="stop"/>: its page tables are gone already, so the new page goes back).
    /// </summary>
    [Preemptible]
    public bool Alloc(Process process, int index, Func<bool> stop)
    {
        for (int level; (level = process.MissingTableLevel(index)) >= 0;)
        {
            int pfn = allocator.AllocPages(0, gfp.Table(level));
            if (pfn < 0) return false;
            if (stop())
            {
                lru.PutPage(pfn);
                return false;
            }
            pages.Kind[pfn] = (byte)PageKind.PageTable;
            ram.Write(pfn); // GFP_PGTABLE_USER's __GFP_ZERO
            if (gfp.CountsInNrPagetable(level)) node.ZoneOf(pfn).Stat.Add((int)ZoneStat.NrPageTablePages, 1); // pgtable_*_page_ctor
            process.PopulateTable(level, index, pfn);
        }
        return true;
    }
}
