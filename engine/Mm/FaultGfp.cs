using BalloonScript.Engine.Designs;
using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// The gfp masks a user fault's pages are allocated with on x86-64 (what the page allocator, the OOM report and
/// warn_alloc see), by the version of the design's page allocator (the older designs print v3.16's masks too).
/// </summary>
internal sealed record FaultGfp(Gfp AnonPage, Gfp SwapIn)
{
    /// <summary>
    /// v3.16: <c>do_anonymous_page</c>'s <c>alloc_zeroed_user_highpage_movable</c> (x86 page.h: GFP_HIGHUSER |
    /// __GFP_ZERO | __GFP_MOVABLE, 0x280da); <c>read_swap_cache_async</c>'s <c>alloc_page_vma</c> with the
    /// GFP_HIGHUSER_MOVABLE <c>do_swap_page</c> passes (0x200da).
    /// </summary>
    public static readonly FaultGfp V3_16 = new(Gfp.HighUserMovable | Gfp.Zero, Gfp.HighUserMovable);

    /// <summary>
    /// 6.1: the same calls, but <c>alloc_page_vma</c> is <c>vma_alloc_folio</c>, whose <c>__folio_alloc</c> adds
    /// __GFP_COMP even at order 0: 0x140dca (GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO) and 0x140cca.
    /// </summary>
    public static readonly FaultGfp V6_1 = new(Gfp.HighUserMovable | Gfp.Comp | Gfp.Zero, Gfp.HighUserMovable | Gfp.Comp);

    /// <summary>The masks of the page allocator <paramref name="version"/>.</summary>
    public static FaultGfp For(PartVersion version) => version == PartVersion.V6_1 ? V6_1 : V3_16;
}
