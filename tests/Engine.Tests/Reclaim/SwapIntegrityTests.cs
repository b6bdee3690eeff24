using BalloonScript.Engine.Swap;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>Data through swap-out and swap-in (docs/kernel/reclaim-v3.16.md §7): every page keeps its data.</summary>
public class SwapIntegrityTests
{
    [TestCase(0)]
    [TestCase(2)]
    public void SwapOutThenIn_EveryVirtualPageHoldsTheDataItHadBefore(double ioLatencyMs)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 64, ioLatencyMs: ioLatencyMs);
        rig.Sim.WorkloadAnon(24);
        var first = rig.Processes.All[0];
        var before = first.Ptes.Select(pfn => rig.Pages.Content[pfn]).ToArray();

        rig.Sim.WorkloadAnon(40); // more than is left: pushes much of the first process out to swap
        rig.Sim.Run(100);         // writebacks complete
        Assert.That(rig.Event(VmEvent.Pswpout), Is.GreaterThan(0));
        Assert.That(first.SwapEnts, Is.GreaterThan(0));

        rig.Sim.WorkloadFree(1.0, "interleave", 0); // everything resident goes: room for the swap-ins
        var swapped = first.Ptes.Count(Process.IsSwapEntry);
        rig.Sim.WorkloadTouch(1.0, "anon", "interleave", 0);

        // A page still in the swap cache comes back without I/O (a minor fault); one that left it is read (pswpin).
        Assert.That(rig.Event(VmEvent.Pswpin), Is.GreaterThan(0).And.LessThanOrEqualTo(rig.Event(VmEvent.Pswpout)));
        Assert.That(rig.Processes.All.Sum(p => p.SwapEnts), Is.Zero, "every swapped page is back");
        for (int i = 0; i < first.Ptes.Length; i++)
            if (first.Ptes[i] >= 0) Assert.That(rig.Pages.Content[first.Ptes[i]], Is.EqualTo(before[i]), $"virtual page {i}");
        Assert.That(first.Ptes.Count(p => p >= 0), Is.EqualTo(swapped), "what was swapped came back; what was resident was freed");
        Assert.That(rig.Sanitizer.Reports, Is.Empty, "the whole-memory data check after every operation");
        Assert.That(rig.Get<SwapArea>().InUse, Is.LessThanOrEqualTo(rig.Get<SwapArea>().TotalSwapPages));
    }
}
