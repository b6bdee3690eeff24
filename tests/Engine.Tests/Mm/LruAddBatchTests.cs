using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>
/// The per-cpu batch in front of the LRU lists: v3.16's lru_add_pvec (PAGEVEC_SIZE 14, __lru_cache_add drains a full
/// pagevec before it adds the next page) against v4.8's (14, drained as soon as the page that fills it is added, from
/// 4.7) and 6.1's cpu_fbatches.lru_add (PAGEVEC_SIZE 15, folio_add_lru drains the same way).
/// </summary>
public class LruAddBatchTests
{
    /// <summary>
    /// munmap and truncate drain the running CPU's batches before they free (unmap_region's and __pagevec_release's
    /// lru_add_drain), not every CPU's: pages another CPU's faults left in its batch stay there.
    /// </summary>
    [TestCase("legacy")]
    [TestCase("v6.1")]
    public void WorkloadFree_DrainsThisCpusBatchOnly(string design)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 2, 1, design) with { Pagevecs = true });
        rig.Sim.RunKernelPaths("test", [new Engine.Sched.SimTask(0, 1, "faults on cpu1", () => rig.Get<Workload.Workload>().Anon(8 / 256.0))], null);
        var onCpu1 = rig.Get<Pagevecs>().LruAdd(1).ToList();
        Assert.That(onCpu1, Has.Count.EqualTo(8), "precondition: cpu1's faults left their pages in cpu1's batch");
        rig.Sim.WorkloadAnon(1);

        rig.Sim.WorkloadFree(0.5, "interleave", 0, kind: "anon"); // on cpu0

        Assert.That(rig.Get<Pagevecs>().LruAdd(0), Is.Empty, "cpu0's batch drained first");
        Assert.That(rig.Get<Pagevecs>().LruAdd(1), Is.EqualTo(onCpu1), "cpu1's left as it was");
    }

    [TestCase("fixed", 14, false)]
    [TestCase("movable", 14, true)]
    [TestCase("v6.1", 15, true)]
    public void LruCacheAdd_FullBatch_DrainedBeforeTheNextPage_v3_16_OrOnceFilled_v4_8_v6_1(string design, int size, bool drainedOnceFilled)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Pagevecs = true });
        var lru = rig.Get<Lru>();
        var alloc = rig.Get<IPageAllocator>();
        var parked = rig.Get<Pagevecs>().LruAdd(0);
        int lruPagesBefore = LruPages(rig);
        // Pages as a fault takes them: allocated with their own reference, then lru_cache_add takes the batch's.
        var pfns = rig.RunOnCpu0(() => Enumerable.Range(0, size + 1).Select(_ => alloc.AllocPages(0, Gfp.HighUserMovable)).ToArray());
        Assert.That(pfns, Has.All.GreaterThanOrEqualTo(0), "precondition: pages to add");

        for (int i = 0; i < size - 1; i++) rig.RunOnCpu0(() => { lru.LruCacheAdd(pfns[i]); return 0; });
        Assert.That(parked, Has.Count.EqualTo(size - 1), "one short of full: all parked");
        Assert.That(LruPages(rig), Is.EqualTo(lruPagesBefore));

        rig.RunOnCpu0(() => { lru.LruCacheAdd(pfns[size - 1]); return 0; });
        Assert.That(parked, Has.Count.EqualTo(drainedOnceFilled ? 0 : size), "the page that fills the batch");
        Assert.That(LruPages(rig) - lruPagesBefore, Is.EqualTo(drainedOnceFilled ? size : 0));

        rig.RunOnCpu0(() => { lru.LruCacheAdd(pfns[size]); return 0; });
        Assert.That(parked, Is.EqualTo(new[] { pfns[size] }), "the next page starts a new batch");
        Assert.That(LruPages(rig) - lruPagesBefore, Is.EqualTo(size), "the full batch is on the LRU either way");
        Assert.That(pfns.Take(size).All(rig.Pages.PageLru));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
    }

    private static int LruPages(Rig rig) => Enumerable.Range(0, rig.Pages.Count.Length).Count(rig.Pages.PageLru);
}
