namespace BalloonScript.Engine.Sched;

/// <summary>
/// Whether other processes keep the host's CPUs busy (Linux): the CPU time the whole machine spent busy (/proc/stat) less
/// this process's own (/proc/self/stat), per second, over the time since the last look at least <see cref="WindowMs"/>
/// ago. A spread run (<see cref="CpuAffinity.HoldSpread"/>) busy-waits a core per simulated CPU; beside other work that
/// waiting takes time the other work needs: make test, whose three suites run side by side, took 150 and 152 s with every
/// random exploration spread against 140 and 142 s without (alternated, 2 December). So explorations spread only while
/// the rest of the machine is idle.
/// </summary>
internal static class HostLoad
{
    /// <summary>The shortest time between two looks: /proc counts in hundredths of a second.</summary>
    public const int WindowMs = 200;

    /// <summary>Other processes using less than this many CPUs leave the machine idle enough to spread on.</summary>
    public const double IdleBelowCpus = 0.5;

    /// <summary>USER_HZ, the unit of /proc's CPU times (100 on every Linux architecture .NET runs on).</summary>
    private const double TicksPerSecond = 100;

    private static readonly Lock Gate = new();
    private static (long AtMs, long MachineBusy, long OwnBusy) _look;
    private static bool _othersIdle = true;

    /// <summary>Other processes used less than <see cref="IdleBelowCpus"/> CPUs over the last window (true until there is one, and off Linux).</summary>
    public static bool OthersIdle()
    {
        if (!OperatingSystem.IsLinux()) return true;
        lock (Gate)
        {
            long now = Environment.TickCount64;
            if (_look.AtMs != 0 && now - _look.AtMs < WindowMs) return _othersIdle;
            long machine, own;
            try
            {
                machine = MachineBusy(File.ReadLines("/proc/stat").First());
                own = OwnBusy(File.ReadAllText("/proc/self/stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
            {
                return _othersIdle;
            }
            if (_look.AtMs != 0)
            {
                double others = (machine - _look.MachineBusy - (own - _look.OwnBusy)) / ((now - _look.AtMs) / 1000.0 * TicksPerSecond);
                _othersIdle = others < IdleBelowCpus;
            }
            _look = (now, machine, own);
            return _othersIdle;
        }
    }

    /// <summary>/proc/stat's first line ("cpu  user nice system idle iowait irq softirq steal …"): user + nice + system + irq + softirq.</summary>
    public static long MachineBusy(string cpuLine)
    {
        var f = cpuLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 8 || f[0] != "cpu") throw new FormatException($"not /proc/stat's cpu line: {cpuLine}");
        return long.Parse(f[1]) + long.Parse(f[2]) + long.Parse(f[3]) + long.Parse(f[6]) + long.Parse(f[7]);
    }

    /// <summary>/proc/self/stat: utime + stime (its 14th and 15th fields; the command name, 2nd, may hold spaces).</summary>
    public static long OwnBusy(string selfStat)
    {
        var f = selfStat[(selfStat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11]) + long.Parse(f[12]);
    }
}
