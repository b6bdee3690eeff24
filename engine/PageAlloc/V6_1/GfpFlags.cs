namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// The simulator's gfp bits (<see cref="Gfp"/>, v3.16 values) as 6.1 numbers and prints them: the ___GFP_* values of
/// 6.1 include/linux/gfp_types.h (x86-64 without KASAN hardware tags or lockdep) and <c>%pGg</c>'s names, first
/// match first, in the order of include/trace/events/mmflags.h (<c>__def_gfpflag_names</c>), left-over bits in hex.
/// <c>__GFP_WAIT</c> is <c>__GFP_DIRECT_RECLAIM</c>; <c>__GFP_KSWAPD_RECLAIM</c> is set unless the request asked for
/// no kswapd (<see cref="Gfp.NoKswapd"/>); __GFP_REPEAT is __GFP_RETRY_MAYFAIL.
/// </summary>
internal static class GfpFlags
{
    private static readonly (Gfp Bit, uint Value)[] Bits =
    [
        (Gfp.HighMem, 0x02), (Gfp.Movable, 0x08), (Gfp.Reclaimable, 0x10), (Gfp.High, 0x20), (Gfp.Io, 0x40), (Gfp.Fs, 0x80),
        (Gfp.Atomic, 0x200), (Gfp.Wait, 0x400), (Gfp.NoWarn, 0x2000), (Gfp.Repeat, 0x4000), (Gfp.NoFail, 0x8000),
        (Gfp.NoRetry, 0x10000), (Gfp.Comp, 0x40000), (Gfp.Zero, 0x100), (Gfp.Account, 0x400000), (Gfp.NoMemAlloc, 0x80000), (Gfp.HardWall, 0x100000),
    ];

    private const uint KswapdReclaim = 0x800;

    private static readonly (uint Mask, string Name)[] Names =
    [
        (0x1c24ca, "GFP_TRANSHUGE"), (0x1c20ca, "GFP_TRANSHUGE_LIGHT"), (0x100cca, "GFP_HIGHUSER_MOVABLE"), (0x100cc2, "GFP_HIGHUSER"),
        (0x100cc0, "GFP_USER"), (0x400cc0, "GFP_KERNEL_ACCOUNT"), (0xcc0, "GFP_KERNEL"), (0xc40, "GFP_NOFS"), (0xa20, "GFP_ATOMIC"),
        (0xc00, "GFP_NOIO"), (0x800, "GFP_NOWAIT"), (0x1, "GFP_DMA"), (0x2, "__GFP_HIGHMEM"), (0x4, "GFP_DMA32"), (0x20, "__GFP_HIGH"),
        (0x200, "__GFP_ATOMIC"), (0x40, "__GFP_IO"), (0x80, "__GFP_FS"), (0x2000, "__GFP_NOWARN"), (0x4000, "__GFP_RETRY_MAYFAIL"),
        (0x8000, "__GFP_NOFAIL"), (0x10000, "__GFP_NORETRY"), (0x40000, "__GFP_COMP"), (0x100, "__GFP_ZERO"),
        (0x80000, "__GFP_NOMEMALLOC"), (0x20000, "__GFP_MEMALLOC"), (0x100000, "__GFP_HARDWALL"), (0x200000, "__GFP_THISNODE"),
        (0x10, "__GFP_RECLAIMABLE"), (0x8, "__GFP_MOVABLE"), (0x400000, "__GFP_ACCOUNT"), (0x1000, "__GFP_WRITE"),
        (0xc00, "__GFP_RECLAIM"), (0x400, "__GFP_DIRECT_RECLAIM"), (0x800, "__GFP_KSWAPD_RECLAIM"), (0x800000, "__GFP_ZEROTAGS"),
    ];

    /// <summary>The 6.1 value of <paramref name="gfp"/>.</summary>
    public static uint Value(Gfp gfp)
    {
        uint v = (gfp & Gfp.NoKswapd) == 0 ? KswapdReclaim : 0;
        foreach (var (bit, value) in Bits)
            if ((gfp & bit) != 0) v |= value;
        return v;
    }

    /// <summary>"%#x(%pGg)": the value and its names, as warn_alloc and dump_header print a gfp mask.</summary>
    public static string Format(Gfp gfp)
    {
        uint flags = Value(gfp);
        var parts = new List<string>();
        foreach (var (mask, name) in Names)
        {
            if (flags == 0) break;
            if ((flags & mask) != mask) continue;
            parts.Add(name);
            flags &= ~mask;
        }
        if (flags != 0) parts.Add($"0x{flags:x}");
        return $"0x{Value(gfp):x}({string.Join('|', parts)})";
    }
}
