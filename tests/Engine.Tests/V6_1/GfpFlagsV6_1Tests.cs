using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// The simulator's gfp masks as 6.1 prints them ("%#x(%pGg)"): the ___GFP_* values of 6.1 include/linux/gfp_types.h and
/// the first-match names of include/trace/events/mmflags.h (6.1 tree FreshlyCutWax/Linux-Kernel-KTMM-6.1).
/// </summary>
public class GfpFlagsV6_1Tests
{
    private static readonly (Gfp Gfp, string Printed)[] Cases =
    [
        (Gfp.HighUserMovable, "0x100cca(GFP_HIGHUSER_MOVABLE)"),
        (Gfp.Kernel, "0xcc0(GFP_KERNEL)"),
        (Gfp.HighUserMovable | Gfp.NoMemAlloc | Gfp.NoRetry | Gfp.NoWarn, "0x192cca(GFP_HIGHUSER_MOVABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC)"),
        (Gfp.TransHuge, "0x1d24ca(GFP_TRANSHUGE|__GFP_NORETRY)"),
        (Gfp.Atomic | Gfp.High, "0xa20(GFP_ATOMIC)"),
        (Gfp.Kernel | Gfp.Comp | Gfp.Repeat, "0x44cc0(GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_COMP)"),
        (Gfp.Movable | Gfp.NoKswapd, "0x8(__GFP_MOVABLE)"),
    ];

    [Test]
    public void Format_v6_1_ValueAndFirstMatchNames()
    {
        foreach (var (gfp, printed) in Cases) Assert.That(GfpFlags.Format(gfp), Is.EqualTo(printed), $"gfp {gfp}");
    }
}
