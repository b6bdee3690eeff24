using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim.V6_1;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// Workingset refault detection of 6.1 mm/workingset.c for anonymous pages (5.9+): reclaim's eviction of a swap-cache
/// page leaves a shadow entry (the lruvec's nonresident_age, PG_workingset) in its slot; a swap-in that reads the slot
/// again activates the page if its refault distance fits in the workingset, and restores a page that had been in it.
/// v3.16 keeps shadow entries for file pages only (and no file page is read back in here).
/// </summary>
public class WorkingsetV6_1Tests
{
    /// <summary>
    /// workingset_eviction takes the age before the eviction and ages the lruvec by one, so a refault with nothing in
    /// between is at distance 1: within the workingset (here the file lists: 6.1 starts anon pages inactive) the page is
    /// activated before it reaches the LRU (WORKINGSET_ACTIVATE_ANON, the lruvec ages again), and one evicted with
    /// PG_workingset gets it back and its cost noted (WORKINGSET_RESTORE_ANON, anon_cost). A refault further than the
    /// workingset is counted and left inactive.
    /// </summary>
    [Test]
    public void Refault_v6_1_ActivatesWithinTheWorkingset_RestoresAWorkingsetPage_CountsOneFurtherOff()
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 8, design: "v6.1");
        rig.Sim.WorkloadFile(1); // 256 inactive file pages: the workingset a refault is measured against
        var ws = rig.Get<Workingset>();
        var state = rig.Get<NodeReclaimState>();
        var pages = rig.Pages;
        const uint Both = (uint)(PG.Active | PG.Workingset);
        long age = ws.NonresidentAge, anonCost = state.AnonCost;
        long ageAfterEviction = 0, ageAfterActivation = 0, anonCostAfter = 0;
        uint near = 0, far = 0;
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", () =>
        {
            var allocator = rig.Get<IPageAllocator>();
            int[] p = [.. Enumerable.Range(0, 3).Select(_ => allocator.AllocPages(0, Gfp.HighUserMovable))];
            foreach (int page in p) pages.Set(page, PG.SwapBacked); // swap-cache pages: anonymous refaults
            pages.Set(p[0], PG.Workingset);
            long shadow = ws.Eviction(p[0]);
            ageAfterEviction = ws.NonresidentAge;
            ws.Refault(p[1], shadow);
            (near, ageAfterActivation, anonCostAfter) = (pages.Flags[p[1]] & Both, ws.NonresidentAge, state.AnonCost);

            shadow = ws.Eviction(p[1]);
            for (int i = 0; i < 256; i++) ws.Activation(p[2]); // distance 257 against 256 file pages
            ws.Refault(p[2], shadow);
            far = pages.Flags[p[2]] & Both;
            foreach (int page in p)
            {
                pages.Clear(page, PG.Active | PG.Workingset | PG.SwapBacked);
                rig.Get<IBuddyAllocator>().PutPage(page);
            }
        })], null);

        Assert.That(ageAfterEviction, Is.EqualTo(age + 1));
        Assert.That(near, Is.EqualTo(Both), "activated and restored at distance 1");
        Assert.That(ageAfterActivation, Is.EqualTo(age + 2), "an activation ages the lruvec");
        Assert.That(anonCostAfter, Is.EqualTo(anonCost + 1), "lru_note_cost_refault");
        Assert.That(far, Is.Zero, "left inactive at distance 257");
        Assert.That((rig.Event(VmEvent.WorkingsetRefaultAnon), rig.Event(VmEvent.WorkingsetActivateAnon), rig.Event(VmEvent.WorkingsetRestoreAnon)),
            Is.EqualTo((2L, 1L, 1L)));
        Assert.That(rig.Sim.ProcVmstat(), Does.Contain("\nworkingset_refault_anon 2\n").And.Contain("\nworkingset_activate_anon 1\n")
            .And.Contain("\nworkingset_restore_anon 1\n").And.Contain("\nworkingset_refault_file 0\n"));
    }

    /// <summary>
    /// Under pressure with swap: every page a swap-in reads had been evicted by reclaim, so it finds its shadow
    /// (workingset_refault_anon = pswpin); some are activated and restored, and shrink_active_list gave the pages it
    /// deactivated PG_workingset. A slot freed takes its shadow with it. v3.16 counts none of it.
    /// </summary>
    [TestCase("v6.1", true)]
    [TestCase("fixed", false)]
    public void SwapIns_v6_1_FindTheirShadows_v3_16_KeepsNone(string design, bool counted)
    {
        var rig = new PressureRig(memoryMib: 64, swapMib: 64, design: design);
        rig.Sim.WorkloadAnon(24);
        rig.Sim.WorkloadAnon(40);
        rig.Sim.Run(100);
        for (int i = 0; i < 3; i++)
        {
            rig.Sim.WorkloadTouch(1.0, "anon", "interleave", i);
            rig.Sim.Run(100);
        }
        long pswpin = rig.Event(VmEvent.Pswpin);
        Assert.That(pswpin, Is.Positive, "precondition: swap-ins read pages");
        Assert.That(rig.Event(VmEvent.WorkingsetRefaultAnon), Is.EqualTo(counted ? pswpin : 0));
        Assert.That(rig.Event(VmEvent.WorkingsetActivateAnon) > 0 && rig.Event(VmEvent.WorkingsetRestoreAnon) > 0, Is.EqualTo(counted));
        var area = rig.Get<Swap.SwapArea>();
        Assert.That(Enumerable.Range(1, (int)area.TotalSwapPages).All(s => area.Shadow[s] == 0 || area.CachePage[s] < 0),
            "a shadow only where no page is");
        Assert.That(Enumerable.Range(0, rig.Pages.NrPages).Any(pfn => rig.Pages.Test(pfn, PG.Workingset)), Is.EqualTo(counted));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
