using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Workload;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>
/// A process's page tables and total_vm, as the OOM killer reads them (v3.16 <c>mm-&gt;nr_ptes</c> in oom_badness; 6.1
/// <c>mm_pgtables_bytes</c> in oom_badness and the kill line; both print <c>total_vm</c>): tables exist for the ranges
/// faults reached (<c>__pte_alloc</c> and the levels above it), munmap frees one only when no part of the VMA is left in
/// its range (<c>free_pgd_range</c>'s floor and ceiling), and takes each page it unmaps off <c>total_vm</c>
/// (<c>vm_stat_account</c>).
/// </summary>
public class ProcessPageTablesTests
{
    private static Process NewProcess(int pages) => new(1000, "anon", 0, pages, new SimRig(TestOptions.Classic(16, 1, 1)).Get<Scheduler>());

    /// <summary>What a fault at <paramref name="index"/> does to the tables (PageTablePages.Alloc), with made-up PFNs from 100 000 up.</summary>
    private static void Fault(Process p, int index)
    {
        for (int level; (level = p.MissingTableLevel(index)) >= 0;) p.PopulateTable(level, index, 100_000 + (int)p.PgtablesPages);
    }

    [Test]
    public void HandleMmFault_PopulatesTheTablesOfTheRangesItsFaultsReach_NotOfTheWholeVma()
    {
        var p = NewProcess(2000); // four 2 MiB ranges, one GiB, one 512 GiB

        Assert.That((p.NrPtes, p.PgtablesPages), Is.EqualTo((0L, 0L)), "no fault yet: no table");
        Fault(p, 0);
        Assert.That((p.NrPtes, p.PgtablesPages), Is.EqualTo((1L, 3L)), "the first fault: a PUD, a PMD and a PTE table");
        Fault(p, 511);
        Assert.That((p.NrPtes, p.PgtablesPages), Is.EqualTo((1L, 3L)), "the same 2 MiB range");
        Fault(p, 1999);
        Assert.That((p.NrPtes, p.PgtablesPages), Is.EqualTo((2L, 4L)), "the last range's PTE table; ranges 1 and 2 never faulted");
    }

    [Test]
    public void Munmap_FreesATableOnlyOnceNoPartOfTheVmaIsLeftInItsRange_AndCountsTotalVmDown()
    {
        var p = NewProcess(2000);
        for (int i = 0; i < 2000; i++) Fault(p, i);
        Assume.That((p.NrPtes, p.PgtablesPages, p.TotalVm), Is.EqualTo((4L, 6L, 2000L)));

        for (int i = 0; i < 511; i++) Assert.That(p.Unmap(i), Is.EqualTo((-1, -1, -1)));
        Assert.That((p.NrPtes, p.TotalVm), Is.EqualTo((4L, 1489L)), "one page of the first range is still mapped");
        Assert.That(p.Unmap(511), Is.EqualTo((100_002, -1, -1)), "the first fault's PTE table (after its PUD and PMD tables)");
        Assert.That((p.NrPtes, p.PgtablesPages), Is.EqualTo((3L, 5L)), "the first range is empty: its PTE table goes");
        for (int i = 1536; i < 2000; i++) p.Unmap(i);
        Assert.That(p.NrPtes, Is.EqualTo(2L), "the last range holds only 464 pages of the VMA");
        for (int i = 512; i < 1536; i++) p.Unmap(i);
        Assert.That((p.NrPtes, p.PgtablesPages, p.TotalVm), Is.EqualTo((0L, 0L, 0L)), "the whole VMA gone: the PMD and PUD tables too");
    }

    /// <summary>
    /// Through the simulation: munmap of a process's first 2 MiB (FreeChosen of each page), then the OOM killer kills it.
    /// 6.1's kill line prints total_vm less the 512 pages and pgtables less that range's PTE table: 7 PTE tables, a PMD and
    /// a PUD, 36 kB; v3.16's badness counts the 7 PTE tables. exit_mmap then frees every table.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void MunmapThenOomKill_TheKillLineAndBadnessSeeTheTablesAndTotalVmMunmapLeft(string design)
    {
        var rig = new PressureRig(design: design);
        rig.Sim.WorkloadAnon(16);
        var victim = rig.Processes.All.Single();
        var pages = rig.Get<PageTable>();
        int[] first = Enumerable.Range(0, 512).Select(victim.Pte).ToArray();
        Assume.That(first, Is.All.Not.Negative, "precondition: the first 2 MiB are mapped");

        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () =>
        {
            var munmap = rig.Get<Munmap>();
            for (int i = 0; i < 512; i++) Assert.That(munmap.FreeChosen(first[i], pages.Mapping[first[i]], i));
        })], null);
        Assert.That((victim.NrPtes, victim.PgtablesPages, victim.TotalVm), Is.EqualTo((7L, 9L, 7L * 512)));
        Assert.That(Engine.Reclaim.V3_16.OomKiller.OomBadness(victim, 1_000_000), Is.EqualTo(victim.AnonRss + 7 - (victim.AnonRss + 7) * 3 / 100));

        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test",
            () => rig.Get<Engine.Reclaim.IReclaim>().OutOfMemory(Engine.PageAlloc.Gfp.HighUserMovable, 0))], null);

        Assert.That(victim.Exited, "precondition: the only process was killed");
        string kill = design == "v6.1"
            ? "Killed process 1000 (anon) total-vm:14336kB, anon-rss:14336kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:36kB oom_score_adj:0"
            : "Killed process 1000 (anon) total-vm:14336kB, anon-rss:14336kB, file-rss:0kB";
        Assert.That(rig.Sim.Dmesg(), Does.Contain(kill));
        Assert.That((victim.NrPtes, victim.PgtablesPages), Is.EqualTo((0L, 0L)), "exit_mmap's free_pgtables");
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    /// <summary>
    /// A second munmap of an address already unmapped finds no VMA there: total_vm and the tables do not move again (two
    /// workload frees that chose the same page).
    /// </summary>
    [Test]
    public void Munmap_OfAnAddressAlreadyUnmapped_ChangesNothing()
    {
        var rig = new PressureRig();
        rig.Sim.WorkloadAnon(2);
        var p = rig.Processes.All.Single();
        int pfn = p.Pte(0), mapping = rig.Get<PageTable>().Mapping[pfn];

        bool[] freed = new bool[2];
        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () =>
        {
            for (int i = 0; i < 2; i++) freed[i] = rig.Get<Munmap>().FreeChosen(pfn, mapping, 0);
        })], null);

        Assert.That(freed, Is.EqualTo(new[] { true, false }));
        Assert.That((p.TotalVm, p.NrPtes), Is.EqualTo((511L, 1L)));
    }

    /// <summary>
    /// The tables are pages of the guest: allocated unmovable (an unmovable pageblock holds them), tagged
    /// <c>pagetable</c>, counted in NR_PAGETABLE as each version's constructors count them (v3.16 <c>pgtable_page_ctor</c>:
    /// PTE tables; 6.1 PTE and PMD tables), and given back by exit_mmap: every page the process had is free again.
    /// </summary>
    [TestCase("legacy", 8)]
    [TestCase("v6.1", 9)]
    public void Fault_AllocatesItsTablesAsUnmovablePages_NrPagetableAsTheVersionCounts(string design, int counted)
    {
        var rig = new PressureRig(design: design);
        long free = rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrFreePages);
        rig.Sim.WorkloadAnon(16); // 8 PTE tables, a PMD and a PUD table
        var p = rig.Processes.All.Single();
        var pages = rig.Get<PageTable>();
        int[] tables = Enumerable.Range(0, pages.NrPages).Where(pfn => pages.Kind[pfn] == (byte)PageKind.PageTable).ToArray();

        Assert.That((tables.Length, p.PgtablesPages), Is.EqualTo((10, 10L)));
        Assert.That(rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrPageTablePages), Is.EqualTo(counted));
        Assert.That(tables.Select(pfn => rig.Node.ZoneOf(pfn).GetPageblockMigratetype(pfn)), Is.All.EqualTo(0), "MIGRATE_UNMOVABLE pageblocks");
        Assert.That(rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrFreePages), Is.EqualTo(free - p.AnonRss - 10).Within(64),
            "the data pages and the tables (give or take the per-cpu lists)");

        rig.Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => rig.Get<Munmap>().ExitMmap(p))], null);

        Assert.That(Enumerable.Range(0, pages.NrPages).Count(pfn => pages.Kind[pfn] == (byte)PageKind.PageTable), Is.Zero);
        Assert.That(rig.VmStat.Global(Engine.Vmstat.ZoneStat.NrPageTablePages), Is.Zero);
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }
}
