using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V6_1;
using BalloonScript.Engine.Vmstat;
using Compactor = BalloonScript.Engine.Compaction.V6_1.Compactor;
using MigrateType = BalloonScript.Engine.PageAlloc.V6_1.MigrateType;

namespace BalloonScript.Engine.Tests.V6_1;

/// <summary>
/// A simulation of the <c>v6.1</c> design (classic options unless told otherwise: no per-cpu lists, no pagevecs, no
/// reclaim, no tick) with the 6.1 parts at hand, and helpers that take and give back whole blocks directly.
/// </summary>
internal sealed class RigV6_1(SimulationOptions options) : SimRig(options)
{
    public static RigV6_1 Create(long memoryMib = 16, int cpus = 1, bool perCpuLists = false, int? proactiveness = null, int? boostFactor = null) =>
        new(TestOptions.Classic(memoryMib, cpus, 1, "v6.1") with
        {
            PerCpuLists = perCpuLists, CompactionProactiveness = proactiveness, WatermarkBoostFactor = boostFactor,
        });

    public new BuddyAllocator Buddy => Get<BuddyAllocator>();
    public IPageAllocator Allocator => Get<IPageAllocator>();
    public Compactor Compactor => Get<Compactor>();
    public PerCpuPagesets Pcp => Get<PerCpuPagesets>();
    public Zone Zone(string name) => Node.Zones.Single(z => z.Name == name);
    public long Event(VmEvent e) => VmStat.Event(e);

    /// <summary>The PFNs on free_list[mt] of <paramref name="order"/>, head first.</summary>
    public List<int> FreeList(Zone zone, int order, int mt)
    {
        var pfns = new List<int>();
        int head = zone.FreeList(order, mt);
        for (int p = Lists.Next(head); p != head; p = Lists.Next(p)) pfns.Add(p);
        return pfns;
    }

    /// <summary>
    /// Take every free block of the zone (__rmqueue_smallest per list, under zone-&gt;lock), each of its pages then held
    /// as a kernel page of its own (_count 1), so the whole-memory checks see a consistent guest.
    /// </summary>
    public void TakeAll(Zone zone)
    {
        for (int o = Engine.Mm.Zone.MaxOrder - 1; o >= 0; o--)
            for (int mt = 0; mt < MigrateType.Count; mt++)
                while (!Lists.Empty(zone.FreeList(o, mt)))
                {
                    zone.Lock.Lock();
                    int pfn = Buddy.RmqueueSmallest(zone, o, mt);
                    zone.Stat.Add((int)ZoneStat.NrFreePages, -(1 << o));
                    zone.Lock.Unlock();
                    for (int p = pfn; p < pfn + (1 << o); p++)
                    {
                        Pages.Count[p] = 1;
                        Pages.Kind[p] = (byte)PageKind.Kernel;
                    }
                }
    }

    /// <summary>Give back 2^order pages at <paramref name="pfn"/> as one allocation (the head's reference dropped).</summary>
    public void Release(int pfn, int order)
    {
        Pages.Count.Fill(0, pfn + 1, (1 << order) - 1);
        Pages.Count[pfn] = 1;
        RunOnCpu0(() => Buddy.PutPage(pfn, order));
    }

    /// <summary>Run kernel code as one path on CPU 0 (run to completion), with the page-state checks after it.</summary>
    public void RunOnCpu0(Action body) => Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 0, "test", body)], null);

    /// <summary>Anon memory filling what the allocator will give, then half of it freed (every other page, or at random).</summary>
    public RigV6_1 FragmentedAnon(string pattern = "interleave")
    {
        Sim.WorkloadAnon(AnonAllocatablePages() / 256.0);
        Sim.WorkloadFree(0.5, pattern, 0);
        return this;
    }
}
