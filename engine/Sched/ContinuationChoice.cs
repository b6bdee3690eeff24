using System.Diagnostics;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// How a race's next switching run goes under <see cref="ContinuationUse.Fastest"/>: the way (continuations or threads)
/// whose recent runs took less host time per preemption point, and now and then the other way, whose figure may have
/// changed since (the host got busy or quiet, code warmed up). Which way is faster depends on the race and on the host:
/// a race that switches at every other point runs three times faster as continuations; one that switches once in 500
/// points, 1.1–1.5 times faster on threads while the host is quiet; beside other busy processes a hand-off between threads
/// waits for the host scheduler, and a depth-3 DFS that takes 7 s on threads alone took 285 s beside three busy loops,
/// 16 s as continuations (4 December). The way a run goes never changes its result.
/// <para>
/// The first way is continuations for a strategy that switches at most of its decisions (random, roundrobin) or while
/// other processes keep the host busy (<see cref="HostBusy"/>), else threads (PCT and DFS on a quiet host, whose runs then
/// compile no twin: a short depth-2 DFS from Python took 0.65–0.73 s on threads and 0.80–0.93 s as continuations in a
/// fresh process); runs on threads go as continuations as soon as the host turns busy while the first way warms up. The first
/// way keeps the runs for <see cref="WarmUpRuns"/> runs and <see cref="WarmUpTicks"/> of host time: a method runs
/// unoptimised code until it has been called some 30 times and the JIT has compiled it again in the background, and the
/// twins, hundreds of async state machines, took about a second of that: random schedules of deflate-vs-isolate took
/// 133 µs each over the first 2,000, 48 µs over the 4th 2,000 and 19–20 µs from the 8th on (one run, 4 December), so a
/// comparison made at the start chose threads (58 µs) for good. A way's first run (its code compiling) is not a figure of
/// it. Then the other way is tried for <see cref="ProbeRuns"/> runs, its figure their time per point (one run alone may
/// meet cold caches after the other way ran for long, or, on threads beside busy processes, a lucky time slice); threads
/// must be faster by a margin (<see cref="ThreadsMargin"/>): a wrong choice of threads beside busy processes costs ten
/// times and more, one of continuations on a quiet host at most about 1.6 times. It is tried again after
/// <see cref="ProbeInterval"/> runs, twice as many each time it is still slower (up to <see cref="LongestProbeInterval"/>):
/// trying a way that has become much slower costs little.
/// </para>
/// </summary>
internal sealed class ContinuationChoice
{
    public const int WarmUpRuns = 1024;
    public const int ProbeRuns = 4;
    public const double ThreadsMargin = 0.8;
    public const int ProbeInterval = 64;
    public const int LongestProbeInterval = 4096;

    /// <summary>Weight of a run in its way's running figure (the rest is the runs before it).</summary>
    private const double Weight = 1 / 8.0;

    private readonly double[] _ticksPerPoint = [double.NaN, double.NaN]; // [threads, continuations]
    private readonly long[] _runs = new long[2];
    private bool _continuations;
    private int _probeInterval = ProbeInterval / 2; // doubled by the first try if it loses
    private int _runsUntilProbe = WarmUpRuns;

    private long _warmedTicks;
    private int _probeRunsMade;
    private long _probeTicks, _probePoints;

    /// <summary>The host clock runs are timed with (tests give their own).</summary>
    public Func<long> Clock { get; set; } = Stopwatch.GetTimestamp;

    /// <summary>The host time, in ticks of <see cref="Clock"/>, runs go the first way before the other is first tried (one second).</summary>
    public long WarmUpTicks { get; set; } = Stopwatch.Frequency;

    /// <summary>Whether other processes keep the host's CPUs busy (tests give their own).</summary>
    public Func<bool> HostBusy { get; set; } = () => !HostLoad.OthersIdle();

    private bool Warm => _warmedTicks >= WarmUpTicks;

    /// <summary>
    /// The way the next run goes, as continuations (true) or on threads, for a strategy that switches at most of its
    /// decisions or not (<paramref name="switchesOften"/>); before the first run this chooses the first way.
    /// </summary>
    public bool Next(bool switchesOften)
    {
        if (_runs[0] + _runs[1] == 0) _continuations = switchesOften || HostBusy();
        else if (!_continuations && !Warm && HostBusy())
        {
            // Warming up on threads, the host turned busy: continuations from now on, warming up in their turn.
            _continuations = true;
            (_warmedTicks, _runsUntilProbe) = (0, WarmUpRuns);
        }
        return _runsUntilProbe == 0 && Warm ? !_continuations : _continuations;
    }

    /// <summary>A run went <paramref name="asContinuations"/> (or on threads), took <paramref name="ticks"/> of <see cref="Clock"/> and passed <paramref name="points"/> preemption points.</summary>
    public void Ran(bool asContinuations, long ticks, long points)
    {
        int way = asContinuations ? 1 : 0;
        if (_warmedTicks < WarmUpTicks) _warmedTicks += ticks;
        if (_runs[way]++ == 0) return;
        if (asContinuations == _continuations)
        {
            double cost = ticks / (double)Math.Max(points, 1);
            _ticksPerPoint[way] = double.IsNaN(_ticksPerPoint[way]) ? cost : _ticksPerPoint[way] + Weight * (cost - _ticksPerPoint[way]);
            if (_runsUntilProbe > 0) _runsUntilProbe--;
            return;
        }
        // A run of a try of the other way: its figure is the try's time per point.
        (_probeTicks, _probePoints) = (_probeTicks + ticks, _probePoints + points);
        if (++_probeRunsMade < ProbeRuns) return;
        _ticksPerPoint[way] = _probeTicks / (double)Math.Max(_probePoints, 1);
        ForgetTry();
        if (_ticksPerPoint[way] < _ticksPerPoint[1 - way] * (asContinuations ? 1 : ThreadsMargin))
        {
            _continuations = asContinuations;
            _probeInterval = ProbeInterval;
        }
        else _probeInterval = Math.Min(2 * _probeInterval, LongestProbeInterval);
        _runsUntilProbe = _probeInterval;
    }

    /// <summary>The runs of a try of the other way so far, let go of (the try ended, or was cut short).</summary>
    private void ForgetTry() => (_probeRunsMade, _probeTicks, _probePoints) = (0, 0, 0);

    /// <summary>A run as continuations reached a path without a twin and was made again on threads: threads from now on, busy
    /// host or not (there is nothing to warm up), tried again as continuations after the longest interval.</summary>
    public void NeededThreads()
    {
        _continuations = false;
        _warmedTicks = Math.Max(_warmedTicks, WarmUpTicks);
        ForgetTry();
        _probeInterval = LongestProbeInterval;
        _runsUntilProbe = LongestProbeInterval;
    }
}
