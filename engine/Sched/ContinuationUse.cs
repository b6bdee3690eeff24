namespace BalloonScript.Engine.Sched;

/// <summary>
/// When a switching run whose kernel paths all have async twins runs them as continuations on one thread rather than on
/// OS threads (<see cref="Scheduler.Continuations"/>). A switch costs tens of nanoseconds as continuations against about
/// 1.5 µs between two threads on one quiet host CPU (and up to a host scheduler's time slice beside busy processes), but
/// every call of a twin costs more than the call it stands for: which is faster depends on how often the race switches
/// and on the host (<see cref="ContinuationChoice"/>).
/// </summary>
internal enum ContinuationUse
{
    /// <summary>Always on threads.</summary>
    Never,
    /// <summary>The way measured faster for this race on this host (<see cref="ContinuationChoice"/>).</summary>
    Fastest,
    /// <summary>As continuations whatever the strategy (what tests compare against threads).</summary>
    Always,
}
