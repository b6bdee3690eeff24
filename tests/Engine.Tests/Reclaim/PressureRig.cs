using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Reclaim.V3_16;
using BalloonScript.Engine.Vmstat;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Tests.Reclaim;

/// <summary>A guest with v3.16 reclaim (no per-cpu lists or pagevecs, so pages stay where the test puts them), its parts at hand.</summary>
internal sealed class PressureRig(long memoryMib = 64, long swapMib = 0, string design = "fixed", double ioLatencyMs = 0,
    bool deflateOnOom = false, int? compactionProactiveness = null)
    : SimRig(TestOptions.Classic(memoryMib, 2, 1, design) with
    {
        Reclaim = true, SwapMib = swapMib, IoLatencyMs = ioLatencyMs, DeflateOnOom = deflateOnOom,
        CompactionProactiveness = compactionProactiveness,
    })
{
    public Zone Zone => Node.LargestZone;
    public long Stat(ZoneStat s) => Node.Zones.Sum(z => z.Stat[(int)s]);
    public long Event(VmEvent e) => VmStat.Event(e);
    public long EventAllZones(VmEvent first) => Enumerable.Range(0, 4).Sum(i => VmStat.Event(first + i));
    public ProcessTable Processes => Get<ProcessTable>();

    /// <summary>Every page of the largest zone's LRU list <paramref name="l"/>, head first.</summary>
    public List<int> LruList(int l)
    {
        var list = new List<int>();
        int head = Zone.LruHead[l];
        for (int p = Lists.Next(head); p != head; p = Lists.Next(p)) list.Add(p);
        return list;
    }

    /// <summary>mark_page_accessed on <paramref name="pfns"/>, <paramref name="times"/> times each (a second access activates).</summary>
    public void Access(IEnumerable<int> pfns, int times)
    {
        var lru = Get<Lru>();
        foreach (int p in pfns)
            for (int i = 0; i < times; i++) lru.MarkPageAccessed(p);
    }

    public long DirectReclaim(int order = 0) => Get<DirectReclaim>().TryToFreePages(order, Engine.PageAlloc.Gfp.Kernel);
}
