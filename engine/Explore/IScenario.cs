using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// A race worth exploring: it prepares one simulation (run to completion) and returns the kernel paths
/// that then race on the simulated CPUs. Built by DI with the services of that simulation.
/// </summary>
internal interface IScenario
{
    /// <summary>Set the guest up and return the tasks that race (each bound to a CPU).</summary>
    IReadOnlyList<SimTask> Prepare();

    /// <summary>After the racing run: settle (e.g. put back what is still isolated) and run the checks.</summary>
    void Finish();
}
