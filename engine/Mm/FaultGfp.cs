using BalloonScript.Engine.Designs;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The gfp masks a user fault's pages are allocated with on x86-64 (what the page allocator, the OOM report and
/// warn_alloc see), by the version of the design's page allocator (the older designs print v3.16's masks too): the
/// anonymous page, a page swap-in reads, and the page tables by level (PTE, PMD, PUD), with how many levels, from the
/// PTE tables up, their constructors count in NR_PAGETABLE; and a page-cache page a read(2) misses
/// (<see cref="Filemap"/>): first with the readahead mask, then, if that fails, with the read's own.
/// </summary>
internal sealed record FaultGfp(Gfp AnonPage, Gfp SwapIn, Gfp PteTable, Gfp PmdTable, Gfp PudTable, int TableLevelsCounted,
    Gfp FileReadahead, Gfp FileRead)
{
    /// <summary>The mask of a page table of <paramref name="level"/> (0 PTE, 1 PMD, 2 PUD).</summary>
    public Gfp Table(int level) => level switch { 0 => PteTable, 1 => PmdTable, _ => PudTable };

    /// <summary>Whether a table of <paramref name="level"/> counts in NR_PAGETABLE (its constructor and destructor keep it).</summary>
    public bool CountsInNrPagetable(int level) => level < TableLevelsCounted;

    /// <summary>
    /// v3.16: <c>do_anonymous_page</c>'s <c>alloc_zeroed_user_highpage_movable</c> (x86 page.h: GFP_HIGHUSER |
    /// __GFP_ZERO | __GFP_MOVABLE, 0x280da); <c>read_swap_cache_async</c>'s <c>alloc_page_vma</c> with the
    /// GFP_HIGHUSER_MOVABLE <c>do_swap_page</c> passes (0x200da). x86 pgalloc (3.x; the macros read in a 3.0.8 copy, as
    /// no 3.16 x86 header is in the index): <c>pte_alloc_one</c> takes
    /// <c>__userpte_alloc_gfp</c> = PGALLOC_GFP = GFP_KERNEL | __GFP_NOTRACK | __GFP_REPEAT | __GFP_ZERO (0x2084d0),
    /// <c>pmd_alloc_one</c> GFP_KERNEL | __GFP_REPEAT | __GFP_ZERO, <c>pud_alloc_one</c> <c>get_zeroed_page</c>(GFP_KERNEL |
    /// __GFP_REPEAT); only <c>pgtable_page_ctor</c> counts NR_PAGETABLE (<c>pgtable_pmd_page_ctor</c> only sets up the lock).
    /// A regular file's mapping gfp is GFP_HIGHUSER_MOVABLE: <c>page_cache_alloc_readahead</c> adds __GFP_NORETRY |
    /// __GFP_NOWARN, <c>page_cache_alloc_cold</c> nothing (both add __GFP_COLD, which is not modelled).
    /// </summary>
    public static readonly FaultGfp V3_16 = new(Gfp.HighUserMovable | Gfp.Zero, Gfp.HighUserMovable,
        Gfp.Kernel | Gfp.NoTrack | Gfp.Repeat | Gfp.Zero, Gfp.Kernel | Gfp.Repeat | Gfp.Zero, Gfp.Kernel | Gfp.Repeat | Gfp.Zero, 1,
        Gfp.HighUserMovable | Gfp.NoRetry | Gfp.NoWarn, Gfp.HighUserMovable);

    /// <summary>
    /// 6.1: the same calls, but <c>alloc_page_vma</c> is <c>vma_alloc_folio</c>, whose <c>__folio_alloc</c> adds
    /// __GFP_COMP even at order 0: 0x140dca (GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO) and 0x140cca. Every table is
    /// GFP_PGTABLE_USER = GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT (0x400dc0); <c>pgtable_pte_page_ctor</c> and
    /// <c>pgtable_pmd_page_ctor</c> count NR_PAGETABLE (a node stat: the sum of the zones'), the PUD table has no constructor.
    /// <c>filemap_alloc_folio</c> adds __GFP_COMP too; <c>page_cache_ra_unbounded</c> allocates with
    /// <c>readahead_gfp_mask</c> (__GFP_NORETRY | __GFP_NOWARN) under <c>memalloc_nofs_save</c>, so the allocator sees no
    /// __GFP_FS (<c>current_gfp_context</c>); <c>filemap_create_folio</c> takes the mapping's mask as it is.
    /// </summary>
    public static readonly FaultGfp V6_1 = new(Gfp.HighUserMovable | Gfp.Comp | Gfp.Zero, Gfp.HighUserMovable | Gfp.Comp,
        Gfp.PgtableUser, Gfp.PgtableUser, Gfp.PgtableUser, 2,
        (Gfp.HighUserMovable & ~Gfp.Fs) | Gfp.Comp | Gfp.NoRetry | Gfp.NoWarn, Gfp.HighUserMovable | Gfp.Comp);

    /// <summary>The masks of the page allocator <paramref name="version"/>.</summary>
    public static FaultGfp For(PartVersion version) => version == PartVersion.V6_1 ? V6_1 : V3_16;
}
