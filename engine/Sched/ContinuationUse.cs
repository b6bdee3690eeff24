namespace BalloonScript.Engine.Sched;

/// <summary>
/// When a switching run whose kernel paths all have async twins runs them as continuations on one thread rather than on
/// OS threads (<see cref="Scheduler.Continuations"/>). A switch costs tens of nanoseconds as continuations against about
/// 1.5 µs between two threads on one host CPU, but every call of a twin costs more than the call it stands for, which
/// pays when a run switches often: random schedules of deflate-vs-isolate (legacy), 27 switches each, take 18.3 µs as
/// continuations against 56 µs on threads (the run to completion 4.3 µs); a depth-3 DFS of deflate-vs-migrate (fixed), a
/// few switches a schedule, 7.30 s as continuations against 7.03 s on threads once the twins are compiled, 8.8 against
/// 7.9 s the first time (4 December, one host CPU, a console process with tiering as the bindings and tests set it;
/// medians of 5 rounds of 40,000 schedules, the DFS once each).
/// </summary>
internal enum ContinuationUse
{
    /// <summary>Always on threads.</summary>
    Never,
    /// <summary>As continuations when the strategy switches at most of its decisions (<see cref="IScheduleStrategy.SwitchesOften"/>)
    /// and the race's last switching run switched at least once every <see cref="Scheduler.PointsPerSwitchAtMost"/> points.</summary>
    WhenSwitchingOften,
    /// <summary>As continuations whatever the strategy (what tests compare against threads).</summary>
    Always,
}
