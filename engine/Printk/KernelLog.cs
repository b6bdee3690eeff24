using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Printk;

/// <summary>
/// The kernel's log (dmesg) for the events a user of the simulation wants to see on its timeline — the OOM
/// killer's messages, "Out of puff!" — each line stamped with the simulated time as printk does
/// (<c>[%5lu.%06lu]</c>). Events of the simulated kernel, not sanitizer findings.
/// </summary>
internal sealed class KernelLog(Scheduler scheduler) : ISnapshotState
{
    private readonly List<(long TimeNs, string Line)> _lines = [];

    /// <summary>Raised for a notable event of the simulated kernel (an OOM kill): the simulation records a history row for it.</summary>
    public event Action<string>? Event;

    public IReadOnlyList<(long TimeNs, string Line)> Lines => _lines;

    /// <summary>printk(<paramref name="line"/>).</summary>
    public void Printk(string line) => _lines.Add((scheduler.NowNs, line));

    /// <summary>A notable event, named for the history (e.g. "oom_kill pid 1002").</summary>
    public void Notable(string name) => Event?.Invoke(name);

    private readonly Dictionary<string, (long Start, int Printed, int Missed)> _ratelimits = [];

    /// <summary>DEFAULT_RATELIMIT_INTERVAL (5 s) and DEFAULT_RATELIMIT_BURST (10).</summary>
    public const long DefaultIntervalNs = 5_000_000_000;
    public const int DefaultBurst = 10;

    /// <summary>
    /// ___ratelimit, one state per <paramref name="site"/> (the function that calls it, as the kernel's __func__): once
    /// the interval has passed since the state began (strictly after it), a new one begins, first printing
    /// "site: N callbacks suppressed" if messages were dropped; then true while fewer than <paramref name="burst"/>
    /// were printed in it.
    /// </summary>
    public bool Ratelimit(string site, long intervalNs = DefaultIntervalNs, int burst = DefaultBurst)
    {
        long now = scheduler.NowNs;
        var (start, printed, missed) = _ratelimits.GetValueOrDefault(site, (now, 0, 0));
        if (now - start > intervalNs)
        {
            if (missed > 0) Printk($"{site}: {missed} callbacks suppressed");
            (start, printed, missed) = (now, 0, 0);
        }
        bool ok = printed < burst;
        _ratelimits[site] = ok ? (start, printed + 1, missed) : (start, printed, missed + 1);
        return ok;
    }

    /// <summary>The lines (immutable) and each ratelimit's state.</summary>
    public object Save() => (_lines.ToArray(), _ratelimits.Select(kv => (kv.Key, kv.Value)).ToArray());

    public void Restore(object saved)
    {
        var (lines, ratelimits) = (((long, string)[], (string, (long, int, int))[]))saved;
        _lines.Clear();
        _lines.AddRange(lines);
        _ratelimits.Clear();
        foreach (var (site, state) in ratelimits) _ratelimits[site] = state;
    }

    /// <summary>The log as dmesg prints it.</summary>
    public string Dmesg() =>
        string.Concat(_lines.Select(l => $"[{l.TimeNs / 1_000_000_000,5}.{l.TimeNs / 1000 % 1_000_000:D6}] {l.Line}\n"));
}
