using BalloonScript.Engine.Explore.Scenarios;

namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// One kind of race operation: its name (<c>bs.op.&lt;name&gt;</c>), what it does, its parameters, how it binds to a
/// simulation (checking its arguments, doing any set-up before the race, returning the kernel path to run), and, for
/// an operation only some simulations have, why one lacks it.
/// </summary>
internal sealed record RaceOpKind(string Name, string Help, OpParam[] Params, Func<OpArgs, ScenarioKit, BoundOp> Bind,
    Func<SimulationOptions, string?>? Missing = null);
