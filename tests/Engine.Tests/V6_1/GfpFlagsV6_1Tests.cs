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
        (Engine.Mm.FaultGfp.V6_1.AnonPage, "0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)"),
        (Engine.Mm.FaultGfp.V6_1.SwapIn, "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)"),
        (Engine.Mm.FaultGfp.V6_1.Table(0), "0x400dc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)"), // GFP_PGTABLE_USER, every level
        (Engine.Mm.FaultGfp.V6_1.Table(2), "0x400dc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)"),
    ];

    [Test]
    public void Format_v6_1_ValueAndFirstMatchNames()
    {
        foreach (var (gfp, printed) in Cases) Assert.That(GfpFlags.Format(gfp), Is.EqualTo(printed), $"gfp {gfp}");
    }

    /// <summary>
    /// The fault paths' masks in each version's numbers: v3.16's anonymous fault 0x280da (GFP_HIGHUSER_MOVABLE |
    /// __GFP_ZERO) and swap-in 0x200da; 6.1's (vma_alloc_folio adds __GFP_COMP) as <see cref="Cases"/> print them.
    /// </summary>
    [Test]
    public void FaultGfp_v3_16_ValuesAsV3_16PrintsThem()
    {
        Assert.That(((uint)Engine.Mm.FaultGfp.V3_16.AnonPage, (uint)Engine.Mm.FaultGfp.V3_16.SwapIn), Is.EqualTo((0x280daU, 0x200daU)));
        // x86 pgalloc: PGALLOC_GFP for PTE tables, GFP_KERNEL | __GFP_REPEAT | __GFP_ZERO for the PMD and PUD tables.
        Assert.That(Enumerable.Range(0, 3).Select(l => (uint)Engine.Mm.FaultGfp.V3_16.Table(l)), Is.EqualTo(new[] { 0x2084d0U, 0x84d0U, 0x84d0U }));
        Assert.That(Engine.Mm.FaultGfp.For(Engine.Designs.PartVersion.V6_1), Is.SameAs(Engine.Mm.FaultGfp.V6_1));
    }
}
