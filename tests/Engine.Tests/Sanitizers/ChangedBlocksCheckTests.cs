using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Swap;
using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sanitizers;

/// <summary>
/// The checks after an operation look only at the MAX_ORDER blocks it changed (PageChanges); they must report exactly
/// what the full check (Simulation.CheckInvariants) reports in the same place. Twin guests get the same operations and
/// the same corruptions between them (struct page fields, counters, lru links, content tokens, the host's ledger): one
/// checks after each operation as simulations do, the other runs the full check instead; their reports must be equal,
/// report for report. Guests with swap add the data on swap slots, which the checks after an operation add up from the
/// swap area's running sums instead of reading every slot.
/// </summary>
public class ChangedBlocksCheckTests
{
    public enum Corruption
    {
        None, Count, MapCount, Flags, Kind, ContentDuplicated, ContentLost, NrFree, ListAdd, BalloonListAdd, HostLedger, Mapping,
        SlotDuplicated, SlotLost, SlotNeverHandedOut,
    }

    public enum Kind { Anon, File, Free, Inflate, Deflate, Compact, Allocate, Touch }

    /// <summary>One step: (maybe) a corruption of a page picked by <see cref="Where"/> (a fraction of memory), then an operation.</summary>
    public readonly record struct Step(Kind Op, double Amount, Corruption Corruption, double Where, int Value)
    {
        public override string ToString() => $"{Corruption}@{Where:0.###}={Value} then {Op}({Amount:0.##})";
    }

    public readonly record struct Case(string Design, bool PerCpuLists, int SwapMib, Step[] Steps)
    {
        public override string ToString() =>
            $"{Design}{(PerCpuLists ? ", per-cpu lists" : "")}{(SwapMib > 0 ? $", {SwapMib} MiB swap" : "")}: {string.Join("; ", Steps)}";
    }

    private static readonly Gen<Step> Steps = Gen.Select(Gen.Enum<Kind>(), Gen.Double[0, 1],
        Gen.Frequency((4, Gen.Const(Corruption.None)), (3, Gen.Enum<Corruption>())), Gen.Double[0, 1], Gen.Int[-3, 3],
        (op, x, corruption, where, value) => new Step(op, Math.Round(x * x * (op == Kind.Free ? 1 : 6), 2), corruption, where, value));

    private static Gen<Case> Cases(string design, int swapMib = 0) =>
        Gen.Select(Gen.Bool, Steps.Array[1, 12], (pcp, steps) => new Case(design, pcp, swapMib, steps));

    [Test]
    public void ChecksAfterAnOperation_ReportWhatTheFullCheckReports([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design) =>
        Property.ForAll(Cases(design), 25, 20260113, Run);

    /// <summary>
    /// The same with every changed block looked at on the host's CPUs (as operations on 256 MiB and more are), a block at
    /// a time: the blocks' looks may end in any order, and a thing one finds stops the others; the reports are the same.
    /// </summary>
    [Test]
    public void ChecksAfterAnOperation_BlocksSharedOutOverHostCpus_ReportWhatTheFullCheckReports(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design, [Values(0, 8)] int swapMib) =>
        Property.ForAll(Cases(design, swapMib), 25, 20261205, c => Run(c, parallelFromBlocks: 1));

    /// <summary>
    /// A page in use linked into a free list without list_del changes no counter: only a block's look at the links finds it,
    /// whether the blocks are looked at in turn or shared out over the host's CPUs, and the full check then reports it.
    /// Linked after a free page, or into an empty free list (both its links lead to the list's head, no free page).
    /// </summary>
    [Test]
    public void ChecksAfterAnOperation_APageInUseLinkedIntoAFreeList_ReportWhatTheFullCheckReports(
        [Values(64, 1)] int parallelFromBlocks, [Values] bool intoAnEmptyList)
    {
        var c = new Case("legacy", PerCpuLists: false, SwapMib: 0, []);
        var incremental = Guest(c, checkAccounting: true);
        incremental.Get<Engine.Sanitizers.PageStateCheck>().ParallelFromBlocks = parallelFromBlocks;
        var full = Guest(c, checkAccounting: false);
        foreach (var rig in new[] { incremental, full })
        {
            rig.Sim.WorkloadAnon(8);
            rig.Sim.WorkloadFree(0.5, "interleave", 1);
            int anon = rig.Pages.Kind.IndexOf((byte)PageKind.Anon), free = Enumerable.Range(0, rig.Pages.NrPages).First(rig.Pages.PageBuddy);
            var zone = rig.Node.ZoneOf(anon);
            int emptyList = Enumerable.Range(0, Zone.MaxOrder)
                .SelectMany(order => Enumerable.Range(0, zone.Types.Count).Select(mt => zone.FreeList(order, mt))).First(rig.Lists.Empty);
            Assert.That(rig.Lists.Add(anon, intoAnEmptyList ? emptyList : free), Is.True);
        }
        Assert.That(Reports(incremental), Is.Empty, "nothing before the corruption");

        incremental.Sim.CheckChangedBlocks();
        full.Sim.CheckInvariants();

        Assert.That(Reports(incremental), Is.Not.Empty.And.EqualTo(Reports(full)));
    }

    /// <summary>A 16 MiB guest with 8 MiB of swap, data on its slots before the first step; touches swap pages back in.</summary>
    [Test]
    public void ChecksAfterAnOperation_WithSwap_ReportWhatTheFullCheckReports([ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design) =>
        Property.ForAll(Cases(design, swapMib: 8), 25, 20261202, Run);

    /// <summary>
    /// On a guest with data on swap, the data check after a small operation adds up the swap area's running sums instead
    /// of reading every slot: it looks at what the operation changed, not at all of memory, and finds what the full check
    /// finds. (The check is the same part in every design; v3.16's reclaim leaves data on slots after this workload.)
    /// </summary>
    [Test]
    public void PageStateCheck_AfterASmallOperation_OnAGuestWithDataOnSwap_LooksAtWhatChanged()
    {
        var rig = new SimRig(new SimulationOptions { MemoryMib = 64, SwapMib = 32, Design = KernelDesign.Parse("fixed"), Seed = 1 });
        foreach (double mib in (double[])[50, 10, 4])
        {
            rig.Sim.WorkloadAnon(mib);
            rig.Sim.Run(200); // the writeback of what reclaim swapped out ends: freeing those pages leaves their data on the slots
        }
        var swap = rig.Get<SwapArea>();
        Assert.That(swap.ContentSlots, Is.GreaterThan(0), "precondition: data on swap slots");
        var check = rig.Get<Engine.Sanitizers.PageStateCheck>();
        for (int i = 0; i < 3; i++)
        {
            rig.Sim.BalloonInflate(1 / 256.0);
            Assert.That(check.LookedAtAll, Is.False, $"inflate {i}: the check after it looked at all of memory");
        }
        var reports = rig.Sim.Reports.Count;
        rig.Sim.CheckInvariants();
        Assert.That(check.LookedAtAll, Is.True);
        Assert.That(rig.Sim.Reports.Count, Is.EqualTo(reports), "the full check finds nothing the checks after each operation did not");
    }

    /// <summary>
    /// After a small operation on a guest with a large balloon, the balloon check walks the part of the list the operation
    /// changed, not the list (the full check walks every entry), and still finds what the full check finds.
    /// </summary>
    [Test]
    public void BalloonCheck_AfterASmallOperation_WalksWhatItChangedNotTheList(
        [ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))] string design, [Values("anon", "inflate", "deflate")] string op)
    {
        var rig = new SimRig(new SimulationOptions { MemoryMib = 64, Design = KernelDesign.Parse(design), Seed = 1, CheckAccounting = true });
        rig.Sim.WorkloadAnon(8);
        rig.Sim.BalloonInflate(32);
        var check = rig.Get<Engine.Sanitizers.BalloonCheck>();
        for (int i = 0; i < 3; i++)
        {
            if (op == "anon") rig.Sim.WorkloadAnon(1 / 256.0);
            else if (op == "inflate") rig.Sim.BalloonInflate(1 / 256.0);
            else rig.Sim.BalloonDeflate(1 / 256.0);
            Assert.That(check.Walked, Is.LessThan(16), $"{op} {i}: entries walked of {rig.Sim.BalloonPages}");
        }
        var reports = rig.Sim.Reports.Count;
        rig.Sim.CheckInvariants();
        Assert.That(check.Walked, Is.EqualTo(rig.Sim.BalloonPages), "the full check walks every entry");
        Assert.That(rig.Sim.Reports.Count, Is.EqualTo(reports), "the full check finds nothing the checks after each operation did not");
    }

    private static void Run(Case c) => Run(c, parallelFromBlocks: null);

    private static void Run(Case c, int? parallelFromBlocks)
    {
        var incremental = Guest(c, checkAccounting: true);
        if (parallelFromBlocks is { } blocks) incremental.Get<Engine.Sanitizers.PageStateCheck>().ParallelFromBlocks = blocks;
        var full = Guest(c, checkAccounting: false);
        full.Sim.CheckInvariants();
        for (int i = 0; i < c.Steps.Length; i++)
        {
            var step = c.Steps[i];
            bool freeListBroken = Corrupt(incremental, step);
            Corrupt(full, step);
            if (freeListBroken)
            {
                // The allocator may loop on a free list broken this way, so the case ends here: both checks look now.
                incremental.Sim.CheckChangedBlocks();
                full.Sim.CheckInvariants();
                Assert.That(Reports(incremental), Is.EqualTo(Reports(full)), $"after step {i} {step} (no operation)");
                return;
            }
            bool ran = Apply(incremental.Sim, step);
            Assert.That(Apply(full.Sim, step), Is.EqualTo(ran), $"step {i} {step} refused in one guest only");
            if (ran) full.Sim.CheckInvariants();
            Assert.That(Reports(incremental), Is.EqualTo(Reports(full)), $"after step {i} {step}");
        }
    }

    private static SimRig Guest(Case c, bool checkAccounting)
    {
        var rig = new SimRig(new SimulationOptions
        {
            MemoryMib = 16, Design = KernelDesign.Parse(c.Design), Cpus = 2, PerCpuLists = c.PerCpuLists, SwapMib = c.SwapMib, Seed = 1,
            CheckAccounting = checkAccounting,
        });
        if (c.SwapMib == 0) return rig;
        // More anonymous memory than the guest has, and time for the writeback: data on swap slots from the first step.
        rig.Sim.WorkloadAnon(12);
        rig.Sim.WorkloadAnon(4);
        rig.Sim.Run(50);
        rig.Sim.WorkloadAnon(2);
        rig.Sim.Run(50);
        return rig;
    }

    private static string[] Reports(SimRig rig) => rig.Sim.Reports.Select(r => r.ToString()).ToArray();

    /// <summary>The step's operation; false if it was refused (the same in both guests, before anything changed).</summary>
    private static bool Apply(Simulation sim, Step step)
    {
        try
        {
            switch (step.Op)
            {
                case Kind.Anon: sim.WorkloadAnon(step.Amount); break;
                case Kind.File: sim.WorkloadFile(step.Amount); break;
                case Kind.Free: sim.WorkloadFree(step.Amount, "random", 1); break;
                case Kind.Inflate: sim.BalloonInflate(step.Amount); break;
                case Kind.Deflate: sim.BalloonDeflate(Math.Min(step.Amount, sim.BalloonPages / 256.0)); break;
                case Kind.Compact: sim.Compact(); break;
                case Kind.Allocate: sim.Allocate(step.Value & 3, 2); break;
                case Kind.Touch: sim.WorkloadTouch(Math.Min(step.Amount, 1), "anon", "random", 1); break;
            }
        }
        catch (ArgumentException)
        {
            return false;
        }
        return true;
    }

    /// <summary>The step's corruption; true if it moved a free page (buddy or per-cpu list) to another list.</summary>
    private static bool Corrupt(SimRig rig, Step step)
    {
        var p = rig.Pages;
        int pfn = (int)(step.Where * (p.NrPages - 1));
        int withData = p.Content.AsSpan().IndexOfAnyExcept(0L);
        switch (step.Corruption)
        {
            case Corruption.Count: p.Count[pfn] += step.Value; break;
            case Corruption.MapCount: p.MapCount[pfn] += step.Value; break;
            case Corruption.Flags: p.Flags[pfn] ^= 1u << (step.Value + 3); break;
            case Corruption.Kind: p.Kind[pfn] = (byte)(step.Value & 7); break;
            case Corruption.ContentDuplicated when withData >= 0: p.Content[pfn] = p.Content[withData]; break;
            case Corruption.ContentLost when withData >= 0: p.Content[withData] = 0; break;
            case Corruption.NrFree: rig.Node.LargestZone.NrFree.Add(step.Value & 3, step.Value); break;
            case Corruption.ListAdd: // the first listed page from pfn on moved to a new list without list_del
                int listed = Enumerable.Range(pfn, p.NrPages - pfn).FirstOrDefault(rig.Lists.OnAList, -1);
                if (listed < 0) break;
                rig.Lists.Add(listed, rig.Lists.NewHead());
                return p.PageBuddy(listed) || p.Count[listed] == 0;
            case Corruption.BalloonListAdd: // the same, onto the head of the balloon list (a page already on it: added twice)
                int onList = Enumerable.Range(pfn, p.NrPages - pfn).FirstOrDefault(rig.Lists.OnAList, -1);
                if (onList < 0) break;
                rig.Lists.Add(onList, rig.Get<Engine.Balloon.BalloonDevInfo>().Pages);
                return p.PageBuddy(onList) || p.Count[onList] == 0;
            case Corruption.HostLedger: rig.Get<Engine.Host.BalloonHost>().Receive(Engine.Host.VirtQueue.Inflate, [pfn]); break;
            case Corruption.Mapping: p.Mapping[pfn] = step.Value; break;
            case Corruption.SlotDuplicated when withData >= 0 && FreeSlot(rig, step) is var free and > 0: // a page's data also on a slot
                rig.Get<SwapArea>().SetContent(free, p.Content[withData]);
                break;
            case Corruption.SlotLost when SlotWithData(rig, step) is var held and > 0: rig.Get<SwapArea>().SetContent(held, 0); break;
            case Corruption.SlotNeverHandedOut when FreeSlot(rig, step) is var free and > 0:
                rig.Get<SwapArea>().SetContent(free, step.Value < 0 ? step.Value : rig.Get<PageContents>().MaxToken + 1 + step.Value);
                break;
        }
        return false;
    }

    /// <summary>The first slot from the step's place on that holds data, or -1.</summary>
    private static int SlotWithData(SimRig rig, Step step) => FirstSlot(rig, step, t => t != 0);

    /// <summary>The first slot from the step's place on that holds no data, or -1.</summary>
    private static int FreeSlot(SimRig rig, Step step) => FirstSlot(rig, step, t => t == 0);

    private static int FirstSlot(SimRig rig, Step step, Func<long, bool> holds)
    {
        var slots = rig.Get<SwapArea>().Content;
        for (int i = 0, from = 1 + (int)(step.Where * (slots.Length - 2)); i < slots.Length - 1; i++)
        {
            int slot = 1 + (from - 1 + i) % (slots.Length - 1); // slot 0 is the header
            if (holds(slots[slot])) return slot;
        }
        return -1;
    }
}
