using System.Runtime.InteropServices;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// Where the OS threads of a switching run go (Linux). They hand a baton to each other, one running at a time. Held on
/// one CPU (<see cref="Hold()"/>) they all share it, and a hand-off is a yield: 1.1–2.2 µs of the OS switching
/// threads on this project's VMs, but one core is all the run uses. Spread (<see cref="HoldSpread"/>), each
/// simulated CPU's thread has a host CPU of its own and waits for the baton spinning (<see cref="Spinning"/>): a
/// hand-off is then a cache line moving between cores, tens of nanoseconds, for as many cores as the run has simulated
/// CPUs. Only where the OS runs the threads changes: which simulated path runs when is the batons' alone. Anywhere
/// else, or if the OS refuses, nothing is pinned.
/// </summary>
internal static class CpuAffinity
{
    private const int MaskWords = 16; // 1,024 CPUs

    /// <summary>The CPU the calling thread last pinned itself to (-1: none).</summary>
    [ThreadStatic] private static int _pinned;

    /// <summary>The host CPUs the calling thread's switching runs spread their simulated CPUs over (null: all on its own).</summary>
    [ThreadStatic] private static int[]? _spread;

    /// <summary>The calling thread runs a simulated CPU of a spread run: it waits for the baton spinning, not yielding.</summary>
    [ThreadStatic] private static bool _spinning;

    /// <summary>The calling thread is pinned to one CPU (by <see cref="Pin"/>): a thread it waits for can only run when it yields.</summary>
    public static bool Pinned => _pinned != 0;

    /// <summary>The CPU the calling thread is pinned to, or -1.</summary>
    public static int PinnedCpu => _pinned - 1;

    /// <summary>The CPUs held by <see cref="HoldSpread"/> on the calling thread, the first its own; null outside.</summary>
    public static int[]? Spread => _spread;

    /// <summary>True on a thread of a spread run (set for the run by <see cref="PinSpinning"/>).</summary>
    public static bool Spinning => _spinning;

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

    /// <summary>
    /// <see cref="Hold(int)"/> on <paramref name="cpus"/>[0], and the calling thread's switching runs give each of their
    /// other simulated CPUs one of the other CPUs (<see cref="Sched.Scheduler"/>), every thread of such a run waiting spinning.
    /// </summary>
    public static IDisposable? HoldSpread(int[] cpus)
    {
        var held = Hold(cpus[0]);
        if (held is null) return null;
        _spread = cpus;
        return held;
    }

    /// <summary>A thread of a run spread by another: pinned to <paramref name="cpu"/>, waiting spinning.</summary>
    public static void PinSpinning(int cpu)
    {
        Pin(cpu);
        _spinning = Pinned;
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
        public void Dispose()
        {
            (_spread, _spinning) = (null, false);
            Set(mask);
        }
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
        _spinning = false;
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
