using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// Turning partial-order reduction on for the process. Its recording hooks sit on every page-field, list-link and lock
/// access; they are compiled in only when the switch is on before the engine first touches a page
/// (<see cref="StepAccesses.Compiled"/>), so simulations that never reduce pay nothing.
/// </summary>
public static class PartialOrderReduction
{
    /// <summary>Ask for recording; true if it is on (false: the engine already ran with it off in this process).</summary>
    public static bool Enable()
    {
        AppContext.SetSwitch(StepAccesses.Switch, true);
        return StepAccesses.Compiled;
    }

    /// <summary>Whether explorations in this process may use reduction="sleep-sets".</summary>
    public static bool Available => StepAccesses.Compiled;
}
