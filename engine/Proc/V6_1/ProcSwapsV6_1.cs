using BalloonScript.Engine.Swap;

namespace BalloonScript.Engine.Proc.V6_1;

/// <summary>
/// 6.1's swap_show (mm/swapfile.c of 6.1.78): "%*s%s\t%lu\t%s%lu\t%s%d\n", a second tab after a size or a used count
/// below 10,000,000 kB, and the header with double tabs; <c>least_priority</c> starts at -1 (4.14, the per-node swap
/// priorities), so the first area without a priority gets -2.
/// </summary>
internal sealed class ProcSwapsV6_1(SwapArea swap) : ProcSwaps(swap)
{
    protected override string Header => "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

    protected override int FirstPriority => -2;

    protected override string SizeAndUsed(long sizeKb, long usedKb) =>
        $"{sizeKb}\t{(sizeKb < 10000000 ? "\t" : "")}{usedKb}{(usedKb < 10000000 ? "\t" : "")}";
}
