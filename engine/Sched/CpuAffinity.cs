using System.Runtime.InteropServices;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// Keeps the OS threads of a switching run on one CPU (Linux): they hand a baton to each other, one running at a time,
/// and a hand-off between threads on one CPU is a yield, where one to a thread on another CPU is a wake-up there. Only
/// where the OS runs the threads changes: which simulated path runs when is the batons' alone. Anywhere else, or if
/// the OS refuses, nothing is pinned.
/// </summary>
internal static class CpuAffinity
{
    private const int MaskWords = 16; // 1,024 CPUs

    /// <summary>The CPU the calling thread last pinned itself to (-1: none).</summary>
    [ThreadStatic] private static int _pinned;

    /// <summary>The calling thread is pinned to one CPU (by <see cref="Pin"/>): a thread it waits for can only run when it yields.</summary>
    public static bool Pinned => _pinned != 0;

    /// <summary>The CPU the calling thread is pinned to, or -1.</summary>
    public static int PinnedCpu => _pinned - 1;

    /// <summary>
    /// Pin the calling thread to the CPU it is on until the returned scope ends, when its mask is put back (null, and
    /// nothing done, if it is pinned already or cannot be). An exploration holds its thread for all its runs: setting a
    /// mask costs more than a run's hand-offs.
    /// </summary>
    public static IDisposable? Hold() => Hold(Current());

    /// <summary><see cref="Hold()"/> on <paramref name="cpu"/> (a host thread of a search on several CPUs, <see cref="Allowed"/>).</summary>
    public static IDisposable? Hold(int cpu)
    {
        if (Pinned || Get() is not { } mask) return null;
        Pin(cpu);
        return Pinned ? new Unpin(mask) : null;
    }

    /// <summary>The CPUs the calling thread may run on, in order (empty where that cannot be asked).</summary>
    public static int[] Allowed()
    {
        if (Get() is not { } mask) return [];
        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaskWords * 64; cpu++)
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0) cpus.Add(cpu);
        return [.. cpus];
    }

    private sealed class Unpin(ulong[] mask) : IDisposable
    {
        public void Dispose() => Set(mask);
    }

    /// <summary>The CPU the calling thread is on now, or -1.</summary>
    public static int Current()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try { return sched_getcpu(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return -1; }
    }

    /// <summary>The calling thread's CPU mask (to put back with <see cref="Set"/>), or null.</summary>
    public static ulong[]? Get()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var mask = new ulong[MaskWords];
        try { return sched_getaffinity(0, MaskWords * sizeof(ulong), mask) == 0 ? mask : null; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    /// <summary>Run the calling thread on <paramref name="cpu"/> only (nothing if it is -1 or already so).</summary>
    public static void Pin(int cpu)
    {
        if (cpu < 0 || cpu >= MaskWords * 64 || _pinned == cpu + 1) return;
        var mask = new ulong[MaskWords];
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (Set(mask)) _pinned = cpu + 1;
    }

    /// <summary>Put back a mask from <see cref="Get"/>.</summary>
    public static bool Set(ulong[] mask)
    {
        _pinned = 0;
        try { return sched_setaffinity(0, MaskWords * sizeof(ulong), mask) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [DllImport("libc")]
    private static extern int sched_getcpu();

    [DllImport("libc")]
    private static extern int sched_getaffinity(int pid, nint size, [Out] ulong[] mask);

    [DllImport("libc")]
    private static extern int sched_setaffinity(int pid, nint size, ulong[] mask);
}
