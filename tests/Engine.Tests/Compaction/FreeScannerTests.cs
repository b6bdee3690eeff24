using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Compaction.V3_16;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Migrate.V3_16;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>isolate_freepages / isolate_freepages_block / compaction_alloc / compaction_free (v3.16).</summary>
public class FreeScannerTests
{
    private static (Rig rig, Zone zone, CompactControl cc) Scanner(Rig rig, int nrMigratepages)
    {
        var zone = rig.Node.LargestZone;
        var cc = new CompactControl(rig.Get<PageLists>(), zone, -1, MigrateType.Movable, MigrateMode.Sync, ignoreSkipHint: true)
        {
            MigratePfn = zone.StartPfn,
            FreePfn = zone.EndPfn & ~(Zone.PageblockNrPages - 1),
            NrMigratepages = nrMigratepages,
        };
        return (rig, zone, cc);
    }

    private static List<int> ListOf(Rig rig, int head)
    {
        var lists = rig.Get<PageLists>();
        var pfns = new List<int>();
        for (int p = lists.Next(head); p != head; p = lists.Next(p)) pfns.Add(p);
        return pfns;
    }

    [Test]
    public void IsolateFreepages_v3_16_SplitsFreePagesOntoTheListAndRescansTheLastBlockNextTime()
    {
        var (rig, zone, cc) = Scanner(Rig.Create(64).FragmentedAnon(), nrMigratepages: 32);
        var free = rig.Get<FreeScanner>();
        long nrFreeBefore = zone.FreePages;

        rig.RunOnCpu0(() => { free.IsolateFreepages(zone, cc); return 0; });

        var isolated = ListOf(rig, cc.FreePages);
        Assert.That(cc.NrFreepages, Is.EqualTo(isolated.Count));
        Assert.That(cc.NrFreepages, Is.GreaterThanOrEqualTo(32));
        Assert.That(zone.FreePages, Is.EqualTo(nrFreeBefore - cc.NrFreepages), "split_free_page took them off NR_FREE_PAGES");
        foreach (int pfn in isolated)
        {
            Assert.That(rig.Pages.Count[pfn], Is.EqualTo(1));
            Assert.That(rig.Pages.PageBuddy(pfn), Is.False);
            Assert.That(rig.Pages.Kind[pfn], Is.EqualTo((byte)PageKind.Isolated));
        }
        int lowestBlock = isolated.Min() & ~(Zone.PageblockNrPages - 1);
        Assert.That(cc.FreePfn, Is.EqualTo(lowestBlock), "3.16 sets free_pfn to a block before scanning it");
        Assert.That(isolated[0], Is.EqualTo(isolated.Where(p => p >= lowestBlock).Max()),
            "list_add: the head is the highest pfn of the last block split");
        Assert.That(rig.Event(VmEvent.CompactIsolated), Is.EqualTo(cc.NrFreepages));
        Assert.That(rig.Event(VmEvent.CompactFreeScanned), Is.GreaterThan(0));
    }

    [Test]
    public void CompactionAllocAndFree_v3_16_TakeAndReturnTheListHead()
    {
        var (rig, zone, cc) = Scanner(Rig.Create(64).FragmentedAnon(), nrMigratepages: 32);
        var free = rig.Get<FreeScanner>();
        long nrFreeBefore = zone.FreePages;
        int head = -1, afterFree = -1, released = -1, nrAfterAlloc = -1;

        rig.RunOnCpu0(() =>
        {
            head = free.CompactionAlloc(cc); // the list is empty: compaction_alloc fills it first
            nrAfterAlloc = cc.NrFreepages;
            free.CompactionFree(cc, head);
            afterFree = ListOf(rig, cc.FreePages)[0];
            released = free.ReleaseFreepages(cc.FreePages);
            cc.NrFreepages -= released;
            return 0;
        });

        Assert.That(head, Is.GreaterThanOrEqualTo(0));
        Assert.That(nrAfterAlloc, Is.EqualTo(released - 1));
        Assert.That(afterFree, Is.EqualTo(head), "compaction_free puts the page back at the head");
        Assert.That(cc.NrFreepages, Is.Zero);
        Assert.That(zone.FreePages, Is.EqualTo(nrFreeBefore), "release_freepages frees every leftover page");
        Assert.That(rig.Sim.PageMap(), Has.None.EqualTo((byte)PageKind.Isolated));
        Assert.That(rig.Sim.Reports, Is.Empty);
    }

    [Test]
    public void IsolateFreepages_v3_16_ScannersMet_FreePfnTakesMigratePfn()
    {
        var (rig, zone, cc) = Scanner(Rig.Create(64).FragmentedAnon(), nrMigratepages: 32);
        cc.MigratePfn = cc.FreePfn - 1;

        rig.RunOnCpu0(() => { rig.Get<FreeScanner>().IsolateFreepages(zone, cc); return 0; });

        Assert.That(cc.NrFreepages, Is.Zero);
        Assert.That(cc.FreePfn, Is.EqualTo(cc.MigratePfn));
    }

    [Test]
    public void SuitableMigrationTarget_v3_16_LeavesWholeFreePageblocksAlone()
    {
        var (rig, zone, cc) = Scanner(Rig.Create(64), nrMigratepages: 32);

        rig.RunOnCpu0(() => { rig.Get<FreeScanner>().IsolateFreepages(zone, cc); return 0; });

        Assert.That(cc.NrFreepages, Is.Zero, "after boot every pageblock is part of a free order-10 block");
        Assert.That(rig.Event(VmEvent.CompactIsolated), Is.Zero);
    }
}
