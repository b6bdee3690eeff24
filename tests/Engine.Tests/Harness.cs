using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// A booted <see cref="Simulation"/> together with the internal services it was composed from, so a test can
/// drive kernel functions (__rmqueue, __free_pages_ok, ...) directly and read the state they leave.
/// </summary>
internal sealed class Harness(long memoryMib = 16, int cpus = 1, long seed = 0)
    : SimRig(TestOptions.Classic(memoryMib, cpus, seed))
{
    public Zone Zone(string name) => Node.Zones.Single(z => z.Name == name);

    /// <summary>The PFNs on free_list[mt] of <paramref name="order"/>, head first.</summary>
    public List<int> FreeList(Zone zone, int order, int mt)
    {
        var pfns = new List<int>();
        int head = zone.FreeList(order, mt);
        for (int p = Lists.Next(head); p != head; p = Lists.Next(p)) pfns.Add(p);
        return pfns;
    }

    /// <summary>Σ nr_free[o]·2^o of a zone.</summary>
    public static long NrFreePagesInAreas(Zone zone)
    {
        long sum = 0;
        for (int o = 0; o < Engine.Mm.Zone.MaxOrder; o++) sum += zone.NrFree[o] << o;
        return sum;
    }

    /// <summary>
    /// Allocate every free block of the zone whole (buffered_rmqueue per list, largest order first), so its free
    /// lists are empty and the test can give back exactly the blocks it wants with <see cref="Release"/>.
    /// </summary>
    public List<(int Pfn, int Order)> AllocateAll(Zone zone)
    {
        var taken = new List<(int, int)>();
        for (int o = Engine.Mm.Zone.MaxOrder - 1; o >= 0; o--)
            for (int mt = 0; mt < MigrateType.Count; mt++)
                while (!Lists.Empty(zone.FreeList(o, mt)))
                    taken.Add((Buddy.BufferedRmqueue(zone, o, mt), o));
        return taken;
    }

    /// <summary>
    /// Give back 2^order pages of allocated memory: the head's reference is dropped (an allocation left _count 1
    /// on its first page only, so pages inside a block already have 0), then __free_pages_ok runs.
    /// </summary>
    public void Release(int pfn, int order)
    {
        Pages.Count[pfn] = 0;
        Buddy.FreePages(pfn, order);
    }

    /// <summary>Parts without a simulation around them, for tests of one structure (a zone, the lists, a node).</summary>
    public sealed record Parts(Scheduler Scheduler, Sanitizer Sanitizer, PageTable Pages, PageLists Lists);

    public static Parts Bare(int nrPages, int maxHeads = 1024)
    {
        var options = new SimulationOptions { Cpus = 1 };
        var scheduler = new Scheduler(options, new FatalSignal());
        var sanitizer = new Sanitizer(scheduler, options);
        var pages = new PageTable(nrPages);
        return new Parts(scheduler, sanitizer, pages, new PageLists(pages, sanitizer, maxHeads));
    }

    /// <summary>The reports of one kind filed so far.</summary>
    public List<SanitizerReport> ReportsOf(ReportKind kind) => Sanitizer.Reports.Where(r => r.Kind == kind).ToList();
}
