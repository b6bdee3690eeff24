using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>The ALLOC_* flags of mm/internal.h (v3.16) that get_page_from_freelist and the watermark test act on.</summary>
internal static class AllocFlags
{
    public const int WmarkMin = Zone.WmarkMin, WmarkLow = Zone.WmarkLow, WmarkHigh = Zone.WmarkHigh;
    /// <summary>ALLOC_WMARK_MASK: the watermark index in the low bits.</summary>
    public const int WmarkMask = 3;
    /// <summary>ALLOC_HARDER: try to alloc harder (a quarter below the watermark).</summary>
    public const int Harder = 0x10;
    /// <summary>ALLOC_HIGH: __GFP_HIGH set (half below the watermark).</summary>
    public const int High = 0x20;
}
