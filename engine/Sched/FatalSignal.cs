using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// <c>fatal_signal_pending(current)</c> for every kernel path of one simulation: Ctrl-C from the user. It is raised
/// from another thread while an operation runs (<see cref="Simulation.Interrupted"/>), or by the cancellation token
/// of the exploration running on the simulation (<see cref="Cancel"/>). Kernel paths test it where the kernel tests
/// for a fatal signal (compact_finished, the too-many-isolated wait, the migrate scanner's lock check), long loops of
/// the workload and the balloon thread stop at it, and a switching run aborts at its next preemption point; so an
/// operation ends early but cleanly, in a consistent state.
/// </summary>
internal sealed class FatalSignal
{
    [NotState("the user's Ctrl-C, not guest state")]
    private volatile bool _raised;

    /// <summary>Raised by the user (Ctrl-C) until the user clears it.</summary>
    public bool Raised
    {
        get => _raised;
        set => _raised = value;
    }

    /// <summary>The cancellation of the exploration running now (none outside one).</summary>
    [NotState("belongs to the exploration running now, not to the guest")]
    public CancellationToken Cancel { get; set; }

    /// <summary>fatal_signal_pending(current): raised, or the exploration was cancelled.</summary>
    public bool Pending => _raised || Cancel.IsCancellationRequested;
}
