using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// The test project's runtimeconfig compiles partial-order reduction's recording in (<see cref="StepAccesses.Compiled"/>),
/// which the reduction tests need and which makes every page access about a fifth dearer. A test process started with
/// <see cref="Variable"/> = <c>off</c> runs without it, as simulations from Python and the benchmarks do: `make test`
/// starts the tests that never explore with reduction that way, and the others in a process of their own.
/// </summary>
internal static class ReductionSwitch
{
    public const string Variable = "BALLOONSCRIPT_TEST_REDUCTION";

    /// <summary>Before any test code runs, and so before the engine first reads the switch.</summary>
    [ModuleInitializer]
    internal static void FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable(Variable) == "off") AppContext.SetSwitch(StepAccesses.Switch, false);
    }
}
