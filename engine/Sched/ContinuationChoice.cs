using System.Diagnostics;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// How a race's next switching run goes under <see cref="ContinuationUse.Fastest"/>: the way (continuations or threads)
/// whose recent runs took less host time per preemption point, and now and then the other way, whose figure may have
/// changed since (the host got busy or quiet, code warmed up). Which way is faster depends on the race and on the host:
/// a race that switches at every other point runs three times faster as continuations; one that switches once in 500
/// points, 1.5 times faster on threads while the host is quiet; beside other busy processes a hand-off between threads
/// waits for the host scheduler, and a depth-3 DFS that takes 8 s on threads alone took more than 90 s beside three busy
/// loops, 16 s as continuations (4 December). The way a run goes never changes its result.
/// <para>
/// A way's first run compiles its code and is not a figure of it. The other way is tried after
/// <see cref="FirstProbeAfter"/> runs, and again after twice as many each time it is still slower (up to
/// <see cref="LongestProbeInterval"/>), so that trying a way that has become much slower costs little.
/// </para>
/// </summary>
internal sealed class ContinuationChoice
{
    public const int FirstProbeAfter = 16;
    public const int LongestProbeInterval = 4096;

    /// <summary>Weight of a run in its way's running figure (the rest is the runs before it).</summary>
    private const double Weight = 1 / 8.0;

    private readonly double[] _ticksPerPoint = [double.NaN, double.NaN]; // [threads, continuations]
    private readonly long[] _runs = new long[2];
    private bool _continuations = true;
    private int _probeInterval = FirstProbeAfter;
    private int _runsUntilProbe = FirstProbeAfter;

    /// <summary>The host clock runs are timed with (tests give their own).</summary>
    public Func<long> Clock { get; set; } = Stopwatch.GetTimestamp;

    /// <summary>The way the next run goes: as continuations (true) or on threads.</summary>
    public bool NextAsContinuations => _runsUntilProbe == 0 ? !_continuations : _continuations;

    /// <summary>A run went <paramref name="asContinuations"/> (or on threads), took <paramref name="ticks"/> of <see cref="Clock"/> and passed <paramref name="points"/> preemption points.</summary>
    public void Ran(bool asContinuations, long ticks, long points)
    {
        int way = asContinuations ? 1 : 0;
        if (_runs[way]++ == 0) return;
        double cost = ticks / (double)Math.Max(points, 1);
        if (asContinuations == _continuations)
        {
            _ticksPerPoint[way] = double.IsNaN(_ticksPerPoint[way]) ? cost : _ticksPerPoint[way] + Weight * (cost - _ticksPerPoint[way]);
            if (_runsUntilProbe > 0) _runsUntilProbe--;
            return;
        }
        // A try of the other way: its figure is this run's.
        _ticksPerPoint[way] = cost;
        if (cost < _ticksPerPoint[1 - way])
        {
            _continuations = asContinuations;
            _probeInterval = FirstProbeAfter;
        }
        else _probeInterval = Math.Min(2 * _probeInterval, LongestProbeInterval);
        _runsUntilProbe = _probeInterval;
    }

    /// <summary>A run as continuations reached a path without a twin and was made again on threads: threads from now on, tried
    /// again as continuations after the longest interval.</summary>
    public void NeededThreads()
    {
        _continuations = false;
        _probeInterval = LongestProbeInterval;
        _runsUntilProbe = LongestProbeInterval;
    }
}
