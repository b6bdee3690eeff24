using BalloonScript.Engine;
using BalloonScript.Engine.Explore;
using BalloonScript.Engine.Explore.Ops;
using BalloonScript.Engine.Snapshots;

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
    public static PyRace Create(PySimulation sim, int[] cpus, int[] opCpus, string[] opKinds, int[] argOps, string[] argNames, string[] argValues) =>
        Create(sim.Sim, cpus, opCpus, opKinds, argOps, argNames, argValues);

    /// <summary><see cref="Create(PySimulation, int[], int[], string[], int[], string[], string[])"/> in another process:
    /// the simulation comes as <see cref="SourceBytes"/> of the race built there.</summary>
    public static PyRace FromBytes(byte[] source, int[] cpus, int[] opCpus, string[] opKinds, int[] argOps, string[] argNames, string[] argValues) =>
        Create(Simulation.FromSnapshot(SnapshotCodec.Decode(source)), cpus, opCpus, opKinds, argOps, argNames, argValues);

    private static PyRace Create(Simulation sim, int[] cpus, int[] opCpus, string[] opKinds, int[] argOps, string[] argNames, string[] argValues)
    {
        var ops = opKinds.Select((kind, i) => new RaceOp(kind,
            argOps.Select((op, j) => (op, j)).Where(a => a.op == i).ToDictionary(a => argNames[a.j], a => argValues[a.j]))).ToArray();
        var perCpu = cpus.Select(cpu => (cpu, (IReadOnlyList<RaceOp>)ops.Where((_, i) => opCpus[i] == cpu).ToArray())).ToArray();
        return new(RaceBuilder.FromOps(sim, perCpu));
    }

    /// <summary>The simulation this race was built from, as bytes (for <see cref="FromBytes"/>); only races of operations have one.</summary>
    public byte[] SourceBytes()
    {
        Check.That(_race.Source is not null, "race", "a preset is rebuilt from its name, design and seed: it has no source simulation");
        return SnapshotCodec.Encode(_race.Source!);
    }

    /// <summary>Each kernel path: its CPU and name (its operations), in task-id order.</summary>
    public int[] TaskCpus => _race.Tasks.Select(t => t.Cpu).ToArray();
    public string[] TaskNames => _race.Tasks.Select(t => t.Name).ToArray();

    /// <summary>Explore schedules [start, start + schedules) under a strategy (dfs: from the first, up to
    /// <paramref name="schedules"/>); <paramref name="progress"/> counts them as they run; cancelling
    /// <paramref name="cancel"/> from another thread (Ctrl-C) ends it early, counting the schedules run so far.</summary>
    public PyExploreResult Explore(string strategy, int schedules, long seed, int start, int depth, string reduction, int threads,
        ExploreProgress progress, CancellationToken cancel)
    {
        var request = new ExploreRequest(strategy, seed, depth, reduction, threads);
        Explorer.CheckRange(request, start, schedules);
        return new(Explorer.Explore(_race, request, start, schedules, cancel, progress));
    }

    /// <summary>One run with every path run to completion, in CPU order.</summary>
    public PyScheduleRun Run() => new(_race.Run(0, null));

    /// <summary>Schedule <paramref name="index"/> again from its decisions (a failure an exploration kept).</summary>
    public PyScheduleRun Replay(int index, int[] choices) => new(_race.Replay(index, choices));

    /// <summary>The failing schedule (<paramref name="index"/>, <paramref name="choices"/>) with every preemption taken out that it can fail without, the same way.</summary>
    public PyScheduleRun Minimize(int index, int[] choices) => new(Minimizer.Minimize(_race.Replay(index, choices)));
}
