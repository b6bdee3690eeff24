using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Snapshots;
using NUnit.Framework;
using P3_16 = BalloonScript.Engine.PageAlloc.V3_16;
using P6_1 = BalloonScript.Engine.PageAlloc.V6_1;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>
/// rmqueue_bulk's order-0 pages a block at a time (<see cref="Engine.PageAlloc.FreeArea.RmqueueSmallestRun"/>) against
/// page by page (__rmqueue_smallest, then v3.16's list_add after the page before, or 6.1's list_add_tail): two
/// simulations built alike, one taking the pages each way, must end in the same state, byte for byte in their snapshots
/// (page fields, every link, nr_free, the link-change bits the checks read) and in the chunk marks.
/// </summary>
public class RmqueueSmallestRunTests
{
    private static SimRig Rig(string design, Action<Simulation> prepare)
    {
        var rig = new SimRig(TestOptions.Classic(64, 1, 1, design) with { PerCpuLists = true });
        prepare(rig.Sim);
        ForgetChanges(rig);
        return rig;
    }

    /// <summary>As the checks after an operation leave them: no page marked changed, so a mark left out either way shows.</summary>
    private static void ForgetChanges(SimRig rig)
    {
        rig.Pages.Changes.Take();
        rig.Lists.ForgetLinkChanges(null);
    }

    private static bool IsV6_1(SimRig rig) => rig.Sim.Design.Name == "v6.1";
    private static Zone Zone(SimRig rig) => rig.Node.LargestZone;
    private static int Movable(SimRig rig) => Zone(rig).Types.Movable;

    /// <summary>The per-cpu list of order-0 MOVABLE pages of CPU 0.</summary>
    private static int PcpList(SimRig rig) => IsV6_1(rig)
        ? rig.Get<P6_1.PerCpuPagesets>().Pcp(Zone(rig), 0).Lists[P6_1.PerCpuPages.OrderToPindex(Movable(rig), 0)]
        : rig.Get<P3_16.PerCpuPagesets>().Pcp(Zone(rig), 0).Lists[Movable(rig)];

    /// <summary>Up to <paramref name="max"/> pages at the tail of the per-cpu list, a run at a time; returns the runs' sizes.</summary>
    private static List<int> TakeInRuns(SimRig rig, int max)
    {
        int head = PcpList(rig), tail = rig.Lists.Prev(head);
        var runs = new List<int>();
        while (runs.Sum() < max)
        {
            int taken = IsV6_1(rig)
                ? rig.Get<P6_1.BuddyAllocator>().RmqueueSmallestRun(Zone(rig), Movable(rig), max - runs.Sum(), ref tail, head)
                : rig.Get<P3_16.BuddyAllocator>().RmqueueSmallestRun(Zone(rig), Movable(rig), max - runs.Sum(), ref tail, head);
            if (taken == 0) break;
            runs.Add(taken);
        }
        return runs;
    }

    /// <summary>The same pages one at a time, as each version's rmqueue_bulk links them.</summary>
    private static void TakeStepByStep(SimRig rig, int n)
    {
        int head = PcpList(rig), tail = rig.Lists.Prev(head);
        for (int i = 0; i < n; i++)
        {
            if (IsV6_1(rig))
                Assert.That(rig.Lists.AddTail(rig.Get<P6_1.BuddyAllocator>().RmqueueSmallest(Zone(rig), 0, Movable(rig)), head), Is.True);
            else
            {
                int pfn = rig.Get<P3_16.BuddyAllocator>().RmqueueSmallest(Zone(rig), 0, Movable(rig));
                Assert.That(rig.Lists.Add(pfn, tail), Is.True);
                tail = pfn;
            }
        }
    }

    private static void AssertSameState(SimRig a, SimRig b)
    {
        SameArrays.AssertEqual(SnapshotCodec.Encode(a.Sim.Snapshot()), SnapshotCodec.Encode(b.Sim.Snapshot()), "snapshots");
        SameArrays.AssertEqual(a.Pages.Changes.Marks, b.Pages.Changes.Marks, "chunk marks");
        Assert.That(a.Sanitizer.Reports, Is.Empty);
    }

    private static readonly Action<Simulation> Fresh = _ => { };
    // Every other page of 8 MiB freed: the order-0 list has hundreds of entries, each on its own.
    private static readonly Action<Simulation> Fragmented = sim =>
    {
        sim.WorkloadAnon(8);
        sim.WorkloadFree(0.5, "interleave", 1);
    };

    [TestCase("legacy", "fresh", 1, new[] { 1 })]
    [TestCase("legacy", "fresh", 31, new[] { 31 })]
    [TestCase("legacy", "fresh", 1024, new[] { 1024 })]
    [TestCase("legacy", "fresh", 1500, new[] { 1024, 476 })]
    [TestCase("legacy", "fragmented", 31, new[] { 31 })]
    [TestCase("v6.1", "fresh", 63, new[] { 63 })]
    [TestCase("v6.1", "fresh", 1500, new[] { 1024, 476 })]
    [TestCase("v6.1", "fragmented", 63, new[] { 63 })]
    public void RmqueueSmallestRun_SameStateAsPageByPage(string design, string state, int max, int[] runs)
    {
        var prepare = state == "fresh" ? Fresh : Fragmented;
        var bulk = Rig(design, prepare);
        var steps = Rig(design, prepare);

        Assert.That(TakeInRuns(bulk, max), Is.EqualTo(runs), "a run per block (the fragmented order-0 list: one run)");
        TakeStepByStep(steps, max);

        AssertSameState(bulk, steps);
    }

    /// <summary>
    /// Taken in parts, each after the last page of the one before, the marks forgotten in between: a block left half
    /// split goes on from where it was (order 0 first, then the blocks above), and the page linked after is marked.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void RmqueueSmallestRun_InPartsSameStateAsPageByPage(string design)
    {
        var bulk = Rig(design, Fresh);
        var steps = Rig(design, Fresh);
        foreach (int part in new[] { 31, 31, 5, 600, 63 })
        {
            Assert.That(TakeInRuns(bulk, part).Sum(), Is.EqualTo(part));
            TakeStepByStep(steps, part);
            AssertSameState(bulk, steps);
            ForgetChanges(bulk);
            ForgetChanges(steps);
        }
    }

    /// <summary>
    /// Through the allocator, per-cpu lists on: a hundred order-0 allocations (several refills, each a run) hand out each
    /// zone's pages in the order __rmqueue_smallest gives them one at a time on a twin without the lists, and the full
    /// check after finds every count and list as it should be.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void AllocPages_RefillsInRuns_HandOutWhatRmqueueSmallestHandsOut(string design)
    {
        var reference = new SimRig(TestOptions.Classic(64, 1, 1, design));
        var rig = Rig(design, Fresh);
        var allocated = new List<int>();
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", () =>
        {
            for (int i = 0; i < 100; i++) allocated.Add(rig.Get<IPageAllocator>().AllocPages(0, Gfp.HighUserMovable));
        })], null);
        rig.Sim.CheckInvariants();

        foreach (var zone in reference.Node.Zones)
        {
            var fromZone = allocated.Where(zone.Spans).ToList();
            var expected = fromZone.Select(_ => IsV6_1(reference)
                ? reference.Get<P6_1.BuddyAllocator>().RmqueueSmallest(zone, 0, zone.Types.Movable)
                : reference.Get<P3_16.BuddyAllocator>().RmqueueSmallest(zone, 0, zone.Types.Movable)).ToList();
            Assert.That(fromZone, Is.EqualTo(expected), zone.Name);
        }
        Assert.That(allocated, Has.Count.EqualTo(100).And.All.Not.Negative);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A free list left broken (a page added elsewhere without list_del): the run takes nothing and changes nothing, so
    /// the page-by-page path meets the break and reports it, as without the runs.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void RmqueueSmallestRun_BrokenFreeList_TakesNothingAndThePageByPagePathReports(string design)
    {
        var rig = Rig(design, Fragmented);
        int head = Zone(rig).FreeList(0, Movable(rig));
        int f0 = rig.Lists.Next(head), f2 = rig.Lists.Next(rig.Lists.Next(f0));
        Assert.That(rig.Lists.Add(f2, f0), Is.True); // head → f0 → f2 → f1 → f2 …: f1's next is f2, whose prev is f0
        var before = SnapshotCodec.Encode(rig.Sim.Snapshot());

        Assert.That(TakeInRuns(rig, 31), Is.Empty);
        SameArrays.AssertEqual(before, SnapshotCodec.Encode(rig.Sim.Snapshot()), "snapshot");

        rig.Sim.WorkloadAnon(1);
        Assert.That(rig.Sanitizer.Reports.Where(r => r.Kind == ReportKind.ListCorruption).Select(r => r.Message),
            Has.Some.Contains("list_del corruption"));
    }
}
