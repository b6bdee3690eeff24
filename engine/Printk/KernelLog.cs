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

    private readonly Dictionary<string, (long Start, int Printed)> _ratelimits = [];

    /// <summary>
    /// __ratelimit with DEFAULT_RATELIMIT_INTERVAL (5 s) and DEFAULT_RATELIMIT_BURST (10), one state per
    /// <paramref name="site"/>: true if the message may be printed.
    /// </summary>
    public bool Ratelimit(string site)
    {
        const long Interval = 5_000_000_000;
        const int Burst = 10;
        var (start, printed) = _ratelimits.GetValueOrDefault(site, (scheduler.NowNs, 0));
        if (scheduler.NowNs - start >= Interval) (start, printed) = (scheduler.NowNs, 0);
        bool ok = printed < Burst;
        _ratelimits[site] = (start, ok ? printed + 1 : printed);
        return ok;
    }

    /// <summary>The lines (immutable) and each ratelimit's state.</summary>
    public object Save() => (_lines.ToArray(), _ratelimits.Select(kv => (kv.Key, kv.Value.Start, kv.Value.Printed)).ToArray());

    public void Restore(object saved)
    {
        var (lines, ratelimits) = (((long, string)[], (string, long, int)[]))saved;
        _lines.Clear();
        _lines.AddRange(lines);
        _ratelimits.Clear();
        foreach (var (site, start, printed) in ratelimits) _ratelimits[site] = (start, printed);
    }

    /// <summary>The log as dmesg prints it.</summary>
    public string Dmesg() =>
        string.Concat(_lines.Select(l => $"[{l.TimeNs / 1_000_000_000,5}.{l.TimeNs / 1000 % 1_000_000:D6}] {l.Line}\n"));
}
