using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Reclaim;

/// <summary>A <c>notifier_block</c> on the OOM notifier chain (<see cref="OomNotifyList"/>): its <c>notifier_call</c>.</summary>
internal partial interface IOomNotifier
{
    /// <summary>Called by out_of_memory before it chooses a victim; returns the pages it freed (what it adds to <c>*freed</c>).</summary>
    [Preemptible]
    long OomNotify();
}
