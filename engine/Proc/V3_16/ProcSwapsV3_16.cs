using BalloonScript.Engine.Swap;

namespace BalloonScript.Engine.Proc.V3_16;

/// <summary>
/// v3.16's swap_show (mm/swapfile.c, read in TROVON's v3.16 copy): "%*s%s\t%u\t%u\t%d\n", one tab between the
/// columns; <c>least_priority</c> starts at 0, so the first area without a priority gets -1.
/// </summary>
internal sealed class ProcSwapsV3_16(SwapArea swap) : ProcSwaps(swap)
{
    protected override string Header => "Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n";

    protected override int FirstPriority => -1;

    protected override string SizeAndUsed(long sizeKb, long usedKb) => $"{sizeKb}\t{usedKb}";
}
