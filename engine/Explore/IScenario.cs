namespace BalloonScript.Engine.Explore;

/// <summary>
/// A race worth exploring by name (a preset): it prepares its guest with the ordinary operations and says what each
/// CPU runs, as operations (<see cref="RaceBuilder.Ops(int, string?, Ops.RaceOp[])"/>) or, where operations cannot say it, as a C# kernel path.
/// Built by DI with the services of that simulation.
/// </summary>
internal interface IScenario
{
    void Prepare(RaceBuilder race);
}
