using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Vmstat;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>
/// The per-cpu activate batch (v3.16 activate_page_pvecs, PAGEVEC_SIZE 14; 6.1 cpu_fbatches.activate, 15): a second
/// access to an inactive LRU page queues it with a reference; the batch moves to the active lists (pgactivate) once the
/// page that fills it is added, or when lru_add_drain drains the CPU.
/// </summary>
public class ActivateBatchTests
{
    [TestCase("fixed", 14)]
    [TestCase("v6.1", 15)]
    public void MarkPageAccessed_QueuesTheActivation_UntilTheBatchFillsOrIsDrained(string design, int size)
    {
        var rig = Rig.Create(TestOptions.Classic(64, 1, 1, design) with { Pagevecs = true });
        var lru = rig.Get<Lru>();
        var batch = rig.Get<Pagevecs>().Activate(0);
        rig.Sim.WorkloadFile(1);
        rig.RunOnCpu0(() => { lru.LruAddDrain(); return 0; });
        var inactive = Enumerable.Range(0, rig.Pages.Count.Length)
            .Where(p => rig.Pages.PageLru(p) && !rig.Pages.Test(p, PG.Active) && lru.PageIsFileCache(p)).Take(size + 1).ToArray();
        Assume.That(inactive, Has.Length.EqualTo(size + 1), "precondition: inactive page-cache pages on the LRU");
        var counts = inactive.Select(p => rig.Pages.Count[p]).ToArray();
        long activatedBefore = rig.Event(VmEvent.Pgactivate);
        void Access(int pfn) => rig.RunOnCpu0(() => { lru.MarkPageAccessed(pfn); lru.MarkPageAccessed(pfn); return 0; });

        for (int i = 0; i < size - 1; i++) Access(inactive[i]);
        Assert.That(batch, Is.EqualTo(inactive.Take(size - 1)), "queued, one short of full");
        Assert.That(inactive.Take(size - 1).Any(p => rig.Pages.Test(p, PG.Active)), Is.False, "still inactive");
        Assert.That(inactive.Take(size - 1).All(rig.Pages.PageLru), "still on their LRU list");
        Assert.That(Enumerable.Range(0, size - 1).All(i => rig.Pages.Count[inactive[i]] == counts[i] + 1), "each holds the batch's reference");
        Assert.That(rig.Event(VmEvent.Pgactivate), Is.EqualTo(activatedBefore));

        Access(inactive[size - 1]);
        Assert.That(batch, Is.Empty, "the page that fills the batch moves it");
        Assert.That(inactive.Take(size).All(p => rig.Pages.Test(p, PG.Active)));
        Assert.That(Enumerable.Range(0, size).All(i => rig.Pages.Count[inactive[i]] == counts[i]), "the batch's references dropped");
        Assert.That(rig.Event(VmEvent.Pgactivate) - activatedBefore, Is.EqualTo(size));

        Access(inactive[size]);
        Assert.That(batch, Is.EqualTo(new[] { inactive[size] }));
        rig.RunOnCpu0(() => { lru.LruAddDrain(); return 0; });
        Assert.That(batch, Is.Empty, "lru_add_drain drains the activate batch too");
        Assert.That(rig.Pages.Test(inactive[size], PG.Active));
        Assert.That(rig.Pages.Count[inactive[size]], Is.EqualTo(counts[size]));
        Assert.That(rig.Sanitizer.Reports, Is.Empty);
        rig.Sim.CheckInvariants();
    }
}
