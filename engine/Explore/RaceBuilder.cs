using BalloonScript.Engine.Explore.Ops;
using BalloonScript.Engine.Explore.Scenarios;
using BalloonScript.Engine.Snapshots;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Builds a <see cref="Race"/> on a simulation of its own: prepare the guest with the ordinary operations (or the
/// <see cref="Kit"/>), bind operations to it (their set-up runs now, as part of the prepared state), say which CPU
/// runs which, then <see cref="Build"/> snapshots the prepared state.
/// </summary>
internal sealed class RaceBuilder
{
    private readonly List<TaskTemplate> _tasks = [];
    private readonly List<Action> _finish = [];

    public RaceBuilder(Simulation sim)
    {
        Sim = sim;
        Kit = sim.Services.GetRequiredService<ScenarioKit>();
    }

    /// <summary>The race's own simulation (never a user's: <see cref="FromOps"/> forks it).</summary>
    public Simulation Sim { get; }

    public ScenarioKit Kit { get; }

    /// <summary>Check <paramref name="op"/> and bind it to <see cref="Sim"/>; <paramref name="where"/> names it in messages (<c>cpu1[0]</c>).</summary>
    public BoundOp Bind(string where, RaceOp op) => RaceOps.Bind(where, op, Kit);

    /// <summary><see cref="Bind"/> each of <paramref name="ops"/> (named <c>cpuN[i]</c>) and give them to CPU <paramref name="cpu"/>;
    /// the path is called <paramref name="name"/>, or by its operations when null.</summary>
    public void Ops(int cpu, string? name, params RaceOp[] ops)
    {
        var bound = ops.Select((op, i) => Bind($"cpu{cpu}[{i}]", op)).ToArray();
        Ops(cpu, name ?? string.Join(" + ", bound.Select(b => b.Name)), bound);
    }

    /// <summary>CPU <paramref name="cpu"/> runs <paramref name="ops"/> one after the other, as one kernel path called <paramref name="name"/>.</summary>
    public void Ops(int cpu, string name, IReadOnlyList<BoundOp> ops)
    {
        Task(cpu, name, () =>
        {
            foreach (var op in ops) op.Run();
        }, ops.All(op => op.RunAsync is not null) ? async () =>
        {
            foreach (var op in ops) await op.RunAsync!();
        } : null);
        foreach (var op in ops)
            if (op.Finish is not null) _finish.Add(op.Finish);
    }

    /// <summary>CPU <paramref name="cpu"/> runs <paramref name="body"/>, a kernel path written in C# (and
    /// <paramref name="asyncBody"/>, its twin as continuations, if it has one); task ids follow the calls.</summary>
    public void Task(int cpu, string name, Action body, Func<ValueTask>? asyncBody = null)
    {
        Check.InRange(cpu, "cpu", 0, Sim.Options.Cpus - 1);
        Check.That(_tasks.All(t => t.Cpu != cpu), "cpu", $"cpu{cpu} already runs {_tasks.FirstOrDefault(t => t.Cpu == cpu)?.Name}");
        _tasks.Add(new TaskTemplate(_tasks.Count, cpu, name, body, asyncBody));
    }

    /// <summary>Something to settle after each schedule, before the whole-memory checks (state outside the simulation, say).</summary>
    public void Finish(Action finish) => _finish.Add(finish);

    /// <summary>The race: the prepared state is snapshotted now; after each schedule the operations settle and the checks run.
    /// <paramref name="twin"/> builds the same race again on a simulation of its own (for a search on several host threads).</summary>
    public Race Build(Func<Race> twin)
    {
        Check.That(_tasks.Count > 0, "race", "no CPU has anything to run");
        var finish = _finish.ToArray();
        var sim = Sim;
        return new Race(sim, [.. _tasks], () =>
        {
            foreach (var f in finish) f();
            sim.CheckChangedBlocks();
        }, twin);
    }

    /// <summary>
    /// A race from operations given per CPU (Python's <c>sim.race(cpu0=[...], cpu1=[...])</c>) on a fork of
    /// <paramref name="sim"/>, which is left as it is. Every CPU and operation is checked before anything is built;
    /// operations are bound CPU by CPU, in order.
    /// </summary>
    public static Race FromOps(Simulation sim, IReadOnlyList<(int Cpu, IReadOnlyList<RaceOp> Ops)> cpus)
    {
        int n = sim.Options.Cpus;
        Check.That(cpus.Count > 0, "race", "no CPU has operations: give each CPU a list, e.g. cpu0=[...]");
        Check.That(cpus.Count <= n, "race", $"{cpus.Count} CPUs have operations, but the simulation has {n}");
        foreach (var (cpu, ops) in cpus)
        {
            Check.That(cpu >= 0 && cpu < n, $"cpu{cpu}", $"no such CPU: the simulation has cpu0..cpu{n - 1}");
            Check.That(cpus.Count(c => c.Cpu == cpu) == 1, $"cpu{cpu}", "is listed twice");
            Check.That(ops.Count > 0, $"cpu{cpu}", "empty list of operations");
            for (int i = 0; i < ops.Count; i++) RaceOps.Check($"cpu{cpu}[{i}]", ops[i], sim.Options);
        }
        // fill_balloon and leak_balloon have one caller: the driver's own thread (v3.16's vballoon kthread, v4.8's and
        // 6.1's work item). Two CPUs running them at once is no kernel's interleaving. (The v4.6+ OOM notifier's
        // leak_balloon comes from an allocation's OOM path, not from an operation.)
        var driver = cpus.Where(c => c.Ops.Any(o => o.Kind is "inflate" or "deflate")).Select(c => c.Cpu).Order().ToArray();
        Check.That(driver.Length <= 1, $"cpu{driver.LastOrDefault()}",
            $"inflate and deflate run on the balloon driver's one thread, but cpu{driver.FirstOrDefault()} has some too: put them on one CPU");
        return FromSource(sim.Snapshot(), cpus);
    }

    /// <summary>The race of <paramref name="cpus"/>' operations on a simulation in the state of <paramref name="source"/>
    /// (which <see cref="Race.Source"/> keeps, and each twin starts from).</summary>
    private static Race FromSource(SimulationSnapshot source, IReadOnlyList<(int Cpu, IReadOnlyList<RaceOp> Ops)> cpus)
    {
        var builder = new RaceBuilder(Simulation.FromSnapshot(source));
        foreach (var (cpu, ops) in cpus.OrderBy(c => c.Cpu)) builder.Ops(cpu, null, [.. ops]);
        var race = builder.Build(() => FromSource(source, cpus));
        race.Source = source;
        return race;
    }
}
