using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// A simulated kernel lock: a spinlock (<c>zone-&gt;lock</c>, <c>lru_lock</c>, <c>pages_lock</c>) or a mutex
/// (<c>balloon_lock</c>). Spinning and sleeping look the same from one thread: the waiter blocks until the
/// owner unlocks. Every operation is a preemption point.
/// </summary>
internal sealed class SimLock(Scheduler scheduler, string name) : ISnapshotState
{
    private readonly string _unlockPoint = name + " unlock";
    private int _owner = -2; // task id; -2 = free (the main path has id -1)

    public string Name { get; } = name;
    public bool IsLocked => _owner != -2;
    public bool HeldByCurrent => _owner == scheduler.Current.Id;

    /// <summary>spin_is_contended / mutex waiters: another CPU is waiting for this lock.</summary>
    public bool IsContended => scheduler.AnyWaitingOn(this);

    public void Lock()
    {
        scheduler.Preempt(Name);
        if (HeldByCurrent) throw new InvalidOperationException($"recursive locking of {Name} by {scheduler.Current.Name}");
        if (_owner != -2) scheduler.WaitUntil(() => _owner == -2, this, Name);
        _owner = scheduler.Current.Id;
    }

    public bool TryLock()
    {
        scheduler.Preempt(Name);
        if (_owner != -2) return false;
        _owner = scheduler.Current.Id;
        return true;
    }

    public void Unlock()
    {
        if (!HeldByCurrent) throw new InvalidOperationException($"{scheduler.Current.Name} unlocks {Name} it does not hold");
        _owner = -2;
        scheduler.Preempt(_unlockPoint);
    }

    public override string ToString() => Name;

    /// <summary>The owner: free between operations, but a run aborted on a deadlock can leave a lock held.</summary>
    public object Save() => _owner;

    public void Restore(object saved) => _owner = (int)saved;
}
