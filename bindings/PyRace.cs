using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;

namespace BalloonScript.Bindings;

/// <summary>
/// A race for Python: a preset by name, or operations per CPU on a fork of a simulation (<c>sim.race(...)</c>). The
/// engine runs every schedule itself; Python asks for them in chunks only to show progress.
/// </summary>
public sealed class PyRace
{
    private readonly Race _race;

    private PyRace(Race race) => _race = race;

    /// <summary>A preset (<see cref="PyExplore.Scenarios"/>) on a fresh guest of its own, seeded with <paramref name="seed"/>.</summary>
    public static PyRace Preset(string scenario, string design, long seed) =>
        new(ScenarioCatalog.Find(scenario).Prepare(Engine.Designs.KernelDesign.Parse(design), seed));

    /// <summary>
    /// Operations per CPU, flattened: the CPUs given are <paramref name="cpus"/>; operation i is
    /// <paramref name="opKinds"/>[i] on CPU <paramref name="opCpus"/>[i] (in order per CPU); argument j,
    /// <paramref name="argNames"/>[j] = <paramref name="argValues"/>[j] (as text), belongs to operation
    /// <paramref name="argOps"/>[j]. <paramref name="sim"/> is left as it is (the race runs on a fork).
    /// </summary>
    public static PyRace Create(PySimulation sim, int[] cpus, int[] opCpus, string[] opKinds, int[] argOps, string[] argNames, string[] argValues)
    {
        var ops = opKinds.Select((kind, i) => new RaceOp(kind,
            argOps.Select((op, j) => (op, j)).Where(a => a.op == i).ToDictionary(a => argNames[a.j], a => argValues[a.j]))).ToArray();
        var perCpu = cpus.Select(cpu => (cpu, (IReadOnlyList<RaceOp>)ops.Where((_, i) => opCpus[i] == cpu).ToArray())).ToArray();
        return new(RaceBuilder.FromOps(sim.Sim, perCpu));
    }

    /// <summary>Each kernel path: its CPU and name (its operations), in task-id order.</summary>
    public int[] TaskCpus => _race.Tasks.Select(t => t.Cpu).ToArray();
    public string[] TaskNames => _race.Tasks.Select(t => t.Name).ToArray();

    /// <summary>Schedules [start, start + schedules) under a strategy (dfs: from the first, up to <paramref name="schedules"/>).</summary>
    public PyExploreResult Explore(string strategy, int schedules, long seed, int start, int depth)
    {
        var request = new ExploreRequest(strategy, seed, depth);
        Explorer.CheckRange(request, start, schedules);
        return new(Explorer.Explore(_race, request, start, schedules));
    }

    /// <summary>One run with every path run to completion, in CPU order.</summary>
    public PyScheduleRun Run() => new(_race.Run(0, null));
}
