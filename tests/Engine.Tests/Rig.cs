using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Vmstat;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// A simulation built the way <see cref="Simulation.Create"/> builds it, with its internal services at hand.
/// </summary>
internal sealed class Rig : SimRig
{
    private Rig(SimulationOptions options) : base(options) { }

    public static Rig Create(long memoryMib = 64, int cpus = 1, long seed = 1) =>
        new(TestOptions.Classic(memoryMib, cpus, seed));

    public static Rig Create(SimulationOptions options) => new(options);

    public long Event(VmEvent e) => VmStat.Event(e);

    /// <summary>Anon memory filling what the allocator will give, then every other page freed.</summary>
    public Rig FragmentedAnon()
    {
        Sim.WorkloadAnon(AnonAllocatablePages() / 256.0);
        Sim.WorkloadFree(0.5, "interleave", 0);
        return this;
    }

    /// <summary>
    /// What another CPU's migration does before migrate_pages (e.g. move_pages): isolate_lru_page on the first
    /// <paramref name="n"/> LRU pages of <paramref name="zone"/> from <paramref name="fromPfn"/> up, onto a new list,
    /// counting them in NR_ISOLATED_*. Returns the list head.
    /// </summary>
    public int IsolateLruPages(Zone zone, int n, int fromPfn = -1)
    {
        var lists = Get<PageLists>();
        var lru = Get<Lru>();
        int head = lists.NewHead();
        for (int pfn = Math.Max(fromPfn, zone.StartPfn); pfn < zone.EndPfn && n > 0; pfn++)
        {
            if (!Pages.PageLru(pfn) || lru.IsolateLruPage(pfn) != 0) continue;
            lists.AddTail(pfn, head);
            zone.Stat.Add((int)ZoneStat.NrIsolatedAnon + (lru.PageIsFileCache(pfn) ? 1 : 0), 1);
            n--;
        }
        return head;
    }

    /// <summary>Run kernel code as one path on CPU 0 (run to completion), with the page-state checks after it.</summary>
    public T RunOnCpu0<T>(Func<T> body)
    {
        T result = default!;
        Sim.RunKernelPaths("test", [new SimTask(0, 0, "test", () => result = body())], null);
        return result;
    }

    /// <summary>Content token → pfn for every page holding data.</summary>
    public Dictionary<long, int> Tokens()
    {
        var map = new Dictionary<long, int>();
        for (int pfn = 0; pfn < Pages.NrPages; pfn++)
            if (Pages.Content[pfn] != 0) map.Add(Pages.Content[pfn], pfn);
        return map;
    }
}
