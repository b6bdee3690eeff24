namespace BalloonScript.Engine.Sched;

/// <summary>
/// When a switching run whose kernel paths all have async twins runs them as continuations on one thread rather than on
/// OS threads (<see cref="Scheduler.Continuations"/>). A switch costs tens of nanoseconds as continuations against about
/// 1.5 µs between two threads on one host CPU, but every call of a twin costs more than the call it stands for, which
/// only pays when a run switches often: random schedules of deflate-vs-isolate (legacy), 27 switches each, took 32 µs as
/// continuations against 55 µs on threads; DFS schedules of deflate-vs-migrate (fixed), a few switches each, 46 µs
/// against 24 µs (4 December, one host CPU, median of 5 rounds).
/// </summary>
internal enum ContinuationUse
{
    /// <summary>Always on threads.</summary>
    Never,
    /// <summary>As continuations when the strategy switches at most of its decisions (<see cref="IScheduleStrategy.SwitchesOften"/>).</summary>
    WhenSwitchingOften,
    /// <summary>As continuations whatever the strategy (what tests compare against threads).</summary>
    Always,
}
