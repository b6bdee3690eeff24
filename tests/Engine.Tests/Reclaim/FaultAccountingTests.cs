using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// PGFAULT counts every fault taken, failed ones too: v3.16's handle_mm_fault counts it before anything else; 6.1's
/// mm_account_fault counts it for successful and failed faults alike ("to preserve the behavior of older kernels"),
/// leaving out only VM_FAULT_RETRY, which nothing here returns.
/// </summary>
public class FaultAccountingTests
{
    /// <summary>
    /// A THP fault is a page fault: PGFAULT counted whether it gets its huge page (thp_fault_alloc) or falls back
    /// (thp_fault_fallback; the small-page fault it falls back to is the same fault).
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void ThpFault_CountsPgfault_WhetherItGetsAHugePageOrFallsBack(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(16, 1, 1, design));
        long before = rig.Event(VmEvent.Pgfault);

        rig.Sim.Allocate(9, 10);

        Assert.That(rig.Event(VmEvent.ThpFaultAlloc) + rig.Event(VmEvent.ThpFaultFallback), Is.EqualTo(10));
        Assert.That(rig.Event(VmEvent.ThpFaultFallback), Is.Positive, "precondition: some fell back (a 16 MiB guest)");
        Assert.That(rig.Event(VmEvent.Pgfault) - before, Is.EqualTo(10));
    }

    /// <summary>
    /// A process whose pages are all on swap touches them with memory full of unreclaimable slab: its first swap-in finds
    /// no page, the OOM killer chooses the process itself, and the fault ends without mapping anything. That fault is
    /// counted; the process's other entries are gone with its page table, so no other fault is taken.
    /// </summary>
    [TestCase("fixed")]
    [TestCase("v6.1")]
    public void SwapIn_ThatOomKillsItsOwnProcess_CountsItsFault(string design)
    {
        var rig = new PressureRig(memoryMib: 16, swapMib: 16, design: design);
        var process = SwappedOutProcessInFullMemory(rig);
        long faults = rig.Event(VmEvent.Pgfault), oomKills = rig.Event(VmEvent.OomKill);

        long touched = rig.Sim.WorkloadTouch(1, "anon", "interleave", 0);

        Assert.That(rig.Event(VmEvent.OomKill) - oomKills, Is.EqualTo(1), "precondition: the swap-in invoked the OOM killer");
        Assert.That(process.Exited, "precondition: it chose the faulting process");
        Assert.That(touched, Is.Zero);
        Assert.That(rig.Event(VmEvent.Pgfault) - faults, Is.EqualTo(1));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A process faulting in more anonymous memory than the guest has, without swap: the OOM killer chooses it during one
    /// of its faults, which ends with nothing mapped. Each page it got is a fault, and so is that last one.
    /// </summary>
    [TestCase("fixed")]
    [TestCase("v6.1")]
    public void AnonFault_ThatOomKillsItsOwnProcess_IsCountedWithTheOthers(string design)
    {
        var rig = new PressureRig(memoryMib: 16, design: design);
        long faults = rig.Event(VmEvent.Pgfault);

        long got = rig.Sim.WorkloadAnon(16);

        var process = rig.Processes.All[^1];
        Assert.That(process.Exited && got < 16 * 256, "precondition: the process was OOM-killed before it had all its pages");
        Assert.That(rig.Event(VmEvent.Pgfault) - faults, Is.EqualTo(got + 1));
    }

    /// <summary>Pages of managed memory the slab leaves: below the watermarks' reach, so that reclaim pushes every page of the
    /// process to swap while the slab is allocated, without an OOM kill yet (192 left two pages resident, 64 OOM-killed).</summary>
    private const int Fill = 128;

    /// <summary>Anonymous memory of one process, all of it pushed to swap, then the rest of memory filled with unreclaimable slab.</summary>
    private static Workload.Process SwappedOutProcessInFullMemory(PressureRig rig)
    {
        rig.Sim.WorkloadAnon(4);
        var process = rig.Processes.All[^1];
        // Slab up to what the process's pages leave (its page tables stay): reclaim pushes all of them to swap on the way, no OOM yet.
        rig.Sim.WorkloadSlab((rig.Get<Workload.Workload>().AllocatablePages() - Fill - process.PgtablesPages) / 256.0);
        Assert.That(process.AnonRss, Is.Zero, "precondition: every page of the process is on swap");
        Assert.That(process.Exited, Is.False, "precondition: no OOM kill yet");
        return process;
    }
}
