namespace BalloonScript.Engine.Sched;

/// <summary>
/// The hand-off between the OS threads of a switching run: <see cref="Release"/> lets the one thread that waits on it
/// go on. The baton usually comes back within microseconds, so a waiter spins a little (yielding on a single core)
/// before it sleeps (a thread pinned to one CPU only yields); a release to a sleeping waiter wakes it through its monitor.
/// </summary>
internal sealed class Baton
{
    private const int Clear = 0, Set = 1, Sleeping = 2;
    /// <summary>Spin iterations before sleeping (<see cref="SpinWait"/>: busy spins first, then yields).</summary>
    private const int Spins = 40;

    private int _state;

    public void Release()
    {
        if (Interlocked.Exchange(ref _state, Set) != Sleeping) return;
        lock (this) Monitor.Pulse(this);
    }

    /// <summary>Wait for a release (consuming it); false if <paramref name="timeoutMs"/> passed first (-1 = no limit).</summary>
    public bool Wait(int timeoutMs = Timeout.Infinite)
    {
        var spin = new SpinWait();
        bool pinned = CpuAffinity.Pinned;
        for (int i = 0; i < Spins; i++)
        {
            if (Interlocked.CompareExchange(ref _state, Clear, Set) == Set) return true;
            // On one CPU the releasing thread runs only when this one yields: no busy spinning first.
            if (pinned) Thread.Yield();
            else spin.SpinOnce(sleep1Threshold: -1);
        }
        lock (this)
        {
            while (true)
            {
                if (Interlocked.CompareExchange(ref _state, Clear, Set) == Set) return true;
                // Mark the sleep; a release that came in between is taken at the top of the loop, not slept through.
                if (Interlocked.CompareExchange(ref _state, Sleeping, Clear) == Set) continue;
                if (Monitor.Wait(this, timeoutMs)) continue;
                // Timed out: take the sleeping mark back, unless a release came in the meantime.
                if (Interlocked.CompareExchange(ref _state, Clear, Sleeping) == Sleeping) return false;
                Interlocked.Exchange(ref _state, Clear);
                return true;
            }
        }
    }
}
