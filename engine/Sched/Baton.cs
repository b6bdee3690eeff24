using System.Diagnostics;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// The hand-off between the OS threads of a switching run: <see cref="Release"/> lets the one thread that waits on it
/// go on. The baton usually comes back within microseconds, so a waiter spins a little before it sleeps: a thread of a
/// spread run (<see cref="CpuAffinity.Spinning"/>, the releasing thread on another CPU) busy-waits up to
/// <see cref="SpinBudgetUs"/>; a thread pinned to one CPU only yields (the releasing thread runs only when it does);
/// else it spins, then yields. A release to a sleeping waiter wakes it through its monitor.
/// </summary>
internal sealed class Baton
{
    private const int Clear = 0, Set = 1, Sleeping = 2;
    /// <summary>Spin iterations before sleeping (<see cref="SpinWait"/>: busy spins first, then yields).</summary>
    private const int Spins = 40;

    /// <summary>
    /// How long a thread of a spread run busy-waits before it sleeps: far longer than the steps between two hand-offs
    /// (a microsecond or less), far shorter than a time slice, so a thread whose partner lost its CPU to another process
    /// does not hold its own CPU for long.
    /// </summary>
    public const int SpinBudgetUs = 50;

    private static readonly long SpinBudgetTicks = Stopwatch.Frequency * SpinBudgetUs / 1_000_000;

    private int _state;

    public void Release()
    {
        if (Interlocked.Exchange(ref _state, Set) != Sleeping) return;
        lock (this) Monitor.Pulse(this);
    }

    /// <summary>Wait for a release (consuming it); false if <paramref name="timeoutMs"/> passed first (-1 = no limit).</summary>
    public bool Wait(int timeoutMs = Timeout.Infinite)
    {
        if (CpuAffinity.Spinning && SpinForRelease()) return true;
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

    /// <summary>Busy-wait up to <see cref="SpinBudgetTicks"/> for a release, consuming it; false if none came.</summary>
    private bool SpinForRelease()
    {
        long until = Stopwatch.GetTimestamp() + SpinBudgetTicks;
        for (int i = 1; ; i++)
        {
            if (Volatile.Read(ref _state) == Set && Interlocked.CompareExchange(ref _state, Clear, Set) == Set) return true;
            Thread.SpinWait(1);
            // A clock read costs more than a spin (tens of nanoseconds): once every 128, a few microseconds.
            if ((i & 127) == 0 && Stopwatch.GetTimestamp() > until) return false;
        }
    }
}
