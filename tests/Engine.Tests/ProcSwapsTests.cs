using BalloonScript.Engine.Swap;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>/proc/swaps as each version's swap_show prints it (mm/swapfile.c, v3.16 and 6.1.78).</summary>
public class ProcSwapsTests
{
    /// <summary>
    /// The header alone without swap; with it, the area's line: the path padded to 40 columns, "partition", the
    /// usable size and the slots in use in kB, the priority of the first area swapped on without one. v3.16 separates
    /// the columns with one tab and gives -1; 6.1 adds a tab after a number below 10,000,000 kB and gives -2.
    /// </summary>
    [TestCase("legacy", 0, "Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n")]
    [TestCase("v6.1", 0, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")]
    [TestCase("legacy", 16, "Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n/dev/vdb                                partition\t16380\t40\t-1\n")]
    [TestCase("v6.1", 16, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdb                                partition\t16380\t\t40\t\t-2\n")]
    [TestCase("v6.1", 10240, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdb                                partition\t10485756\t40\t\t-2\n")]
    public void ProcSwaps_PrintsTheAreaAsTheVersionsSwapShow(string design, long swapMib, string expected)
    {
        var rig = Rig.Create(TestOptions.Classic(16, 1, 1, design) with { Reclaim = swapMib > 0, SwapMib = swapMib });
        var area = rig.Get<SwapArea>();
        if (swapMib > 0)
            for (int i = 0; i < 10; i++) area.GetOneSwapPage();
        Assert.That(rig.Sim.ProcSwaps(), Is.EqualTo(expected));
    }
}
