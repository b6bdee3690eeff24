using System.Runtime.CompilerServices;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// A simulated kernel lock: a spinlock (<c>zone-&gt;lock</c>, <c>lru_lock</c>, <c>pages_lock</c>) or a mutex
/// (<c>balloon_lock</c>). Spinning and sleeping look the same from one thread: the waiter blocks until the
/// owner unlocks. Every operation is a preemption point.
/// </summary>
internal sealed partial class SimLock : ISnapshotState
{
    private readonly Scheduler scheduler;
    private readonly string _unlockPoint;
    [NotState("the lock's number for partial-order reduction, fixed at construction")]
    private readonly int _id;
    private int _owner = -2; // task id; -2 = free (the main path has id -1)

    public SimLock(Scheduler scheduler, string name)
    {
        this.scheduler = scheduler;
        Name = name;
        _unlockPoint = name + " unlock";
        _id = scheduler.RegisterLock(this);
    }

    public string Name { get; }
    public bool IsLocked
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Owner != -2;
    }

    public bool HeldByCurrent
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Owner == scheduler.Current.Id;
    }

    /// <summary>Held by the task <paramref name="taskId"/> (running or asleep under it).</summary>
    public bool HeldBy(int taskId) => Owner == taskId;

    /// <summary>spin_is_contended / mutex waiters: another CPU is waiting for this lock.</summary>
    public bool IsContended
    {
        get
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Lock(_id);
            return scheduler.AnyWaitingOn(this);
        }
    }

    /// <summary>The owner, as partial-order reduction sees it: every look at a lock is an access to it.</summary>
    // This, IsLocked, HeldByCurrent, Process.Record and PageLists.Touch are inlined always. With reduction off their only
    // extra is a test of StepAccesses.Compiled, but that made them too large for the inliner's default: the tiered JIT
    // left the lock's owner and Process.Record as calls in the per-page paths (FreeChosen, LruCacheAdd, MigratePages),
    // and the ahead-of-time code a fresh process runs first, which cannot fold the switch, left all of them (a page
    // operation 7 % fewer instructions there; BENCHMARKS.md, thirty-ninth session).
    private int Owner
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Lock(_id);
            return _owner;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Lock(_id);
            _owner = value;
        }
    }

    // Lock, TryLock and Unlock are inlined where kernel paths take locks (several per page); what is rare is out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining), Preemptible]
    public void Lock()
    {
        scheduler.Preempt(Name);
        if (Owner == -2) Owner = scheduler.Current.Id;
        else LockContended();
    }

    /// <summary>The lock is taken: by the caller itself (a bug in the simulated path), or it waits for the owner.</summary>
    [MethodImpl(MethodImplOptions.NoInlining), Preemptible]
    private void LockContended()
    {
        if (HeldByCurrent) throw new InvalidOperationException($"recursive locking of {Name} by {scheduler.Current.Name}");
        scheduler.WaitUntil(() => Owner == -2, this, Name);
        Owner = scheduler.Current.Id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining), Preemptible]
    public bool TryLock()
    {
        scheduler.Preempt(Name);
        if (Owner != -2) return false;
        Owner = scheduler.Current.Id;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining), Preemptible]
    public void Unlock()
    {
        if (!HeldByCurrent) NotHeld();
        Owner = -2;
        scheduler.Preempt(_unlockPoint);
        if (_whenUnlocked is not null) RunWhenUnlocked();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NotHeld() => throw new InvalidOperationException($"{scheduler.Current.Name} unlocks {Name} it does not hold");

    /// <summary>The waiter <see cref="WhenUnlocked"/> registered, run once the lock is free after the unlock's preemption point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunWhenUnlocked()
    {
        if (_whenUnlocked is { } waiter && !IsLocked)
        {
            _whenUnlocked = null;
            waiter();
        }
    }

    private Action? _whenUnlocked;

    /// <summary>
    /// Run-to-completion: a kernel thread woken while an interrupted path holds this mutex (asleep under it) would
    /// block in mutex_lock and take the mutex as soon as it is released; <paramref name="waiter"/> runs it then,
    /// right after the unlock. One waiter at a time (a woken thread registers once).
    /// </summary>
    public void WhenUnlocked(Action waiter)
    {
        if (scheduler.Switching) throw new InvalidOperationException("WhenUnlocked is for run-to-completion: a switching run blocks the waiter");
        if (!IsLocked) throw new InvalidOperationException($"{Name} is not locked");
        if (_whenUnlocked is not null && _whenUnlocked != waiter) throw new InvalidOperationException($"{Name} already has a waiter");
        _whenUnlocked = waiter;
    }

    public override string ToString() => Name;

    /// <summary>The owner: free between operations, but a run aborted on a deadlock can leave a lock held.</summary>
    public object Save() => _owner;

    public void Restore(object saved) => _owner = (int)saved;
}
