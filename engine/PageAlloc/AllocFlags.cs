using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The ALLOC_* flags of mm/internal.h that get_page_from_freelist and the watermark test act on: v3.16's, and the ones
/// 6.1 added (values of 6.1 mm/internal.h; no v3.16 code sets them).
/// </summary>
internal static class AllocFlags
{
    public const int WmarkMin = Zone.WmarkMin, WmarkLow = Zone.WmarkLow, WmarkHigh = Zone.WmarkHigh;
    /// <summary>ALLOC_WMARK_MASK: the watermark index in the low bits.</summary>
    public const int WmarkMask = 3;
    /// <summary>ALLOC_HARDER: try to alloc harder (a quarter below the watermark).</summary>
    public const int Harder = 0x10;
    /// <summary>ALLOC_HIGH: __GFP_HIGH set (half below the watermark).</summary>
    public const int High = 0x20;
    /// <summary>
    /// ALLOC_FAIR (v3.16; 3.12–4.7): the fast path's first pass takes only zones whose NR_ALLOC_BATCH is left. 0x100 in
    /// v3.16, the bit 6.1 reuses for ALLOC_NOFRAGMENT: each allocator reads only its own version's flags.
    /// </summary>
    public const int Fair = 0x100;
    /// <summary>ALLOC_NO_WATERMARKS (6.1): don't check watermarks at all (PF_MEMALLOC, __GFP_MEMALLOC).</summary>
    public const int NoWatermarks = 0x04;
    /// <summary>ALLOC_OOM (6.1): an OOM victim may go half below the watermark and use the highatomic reserve.</summary>
    public const int Oom = 0x08;
    /// <summary>ALLOC_CMA (6.1): the allocation may use CMA pageblocks.</summary>
    public const int Cma = 0x80;
    /// <summary>ALLOC_NOFRAGMENT (6.1): the first pass may only steal whole pageblocks from other types.</summary>
    public const int NoFragment = 0x100;
    /// <summary>ALLOC_KSWAPD (6.1): __GFP_KSWAPD_RECLAIM; a fragmenting fallback may then flag the zone to wake kswapd.</summary>
    public const int Kswapd = 0x800;
}
