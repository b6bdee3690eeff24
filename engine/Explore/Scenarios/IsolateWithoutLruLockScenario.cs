using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// Defect 3 (kernel-semantics §8.3; Khlebnikov v2 3/6). A guest whose balloon filled the holes of a fragmented
/// anon workload, after which the workload exited: pageblocks now hold balloon pages and free pages only, no
/// LRU page. A compaction of the zone (sync, honouring skip bits) then runs. Pre-d6d86c0 the scanner isolates a
/// balloon page only while it holds lru_lock, which it takes only for an LRU page: it isolates nothing, marks
/// every such pageblock skip, and no order-9 block forms. Post-patch it isolates and migrates them. As an
/// operation: <c>cpu0=[compact(zone=the largest zone)]</c>.
/// </summary>
internal sealed class IsolateWithoutLruLockScenario(ScenarioKit kit) : IScenario
{
    public void Prepare(RaceBuilder race)
    {
        var sim = kit.Sim;
        sim.WorkloadAnon(kit.AllocatableMib);
        sim.WorkloadFree(0.5, "interleave", 0);
        sim.BalloonInflate(Math.Floor(kit.InflatableMib * 128) / 256); // half of what it could take
        sim.WorkloadFree(1.0, "interleave", 0);
        race.Ops(0, "compact_zone", RaceOp.Of("compact", ("zone", kit.Node.LargestZone.Name)));
    }
}
