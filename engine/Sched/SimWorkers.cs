using System.Collections.Concurrent;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// The OS threads that run the kernel paths of switching runs, kept from one run to the next: starting a thread costs
/// tens of microseconds, and an exploration runs thousands of schedules. Only one of them runs simulated code at any
/// time (the scheduler's batons see to that). A worker idle for <see cref="IdleMs"/> exits. Idle workers wait by the CPU
/// they are pinned to (<see cref="CpuAffinity"/>), so that explorations on several CPUs each get theirs back rather than
/// move them between CPUs.
/// </summary>
internal static class SimWorkers
{
    public const int IdleMs = 5_000;

    private static readonly ConcurrentDictionary<int, ConcurrentStack<Worker>> Idle = new();

    /// <summary>Run <paramref name="work"/> on an idle worker pinned to <paramref name="cpu"/> (-1: none), or a new one.</summary>
    public static void Start(Action work, int cpu)
    {
        var idle = Idle.GetOrAdd(cpu, _ => new ConcurrentStack<Worker>());
        while (idle.TryPop(out var worker))
            if (worker.TryAssign(work)) return;
        var fresh = new Worker();
        fresh.TryAssign(work);
        fresh.Start();
    }

    private sealed class Worker
    {
        private const int Waiting = 0, Assigned = 1, Retired = 2;
        private readonly Baton _go = new();
        private readonly Thread _thread;
        private Action? _work;
        private int _state;

        public Worker() => _thread = new Thread(Loop, 1 << 20) { IsBackground = true, Name = "sim worker" };

        public void Start() => _thread.Start();

        public bool TryAssign(Action work)
        {
            if (Interlocked.CompareExchange(ref _state, Assigned, Waiting) != Waiting) return false;
            _work = work;
            _go.Release();
            return true;
        }

        private void Loop()
        {
            while (true)
            {
                if (!_go.Wait(IdleMs))
                {
                    if (Interlocked.CompareExchange(ref _state, Retired, Waiting) == Waiting) return;
                    _go.Wait(); // assigned just now: the release is on its way
                }
                var work = _work!;
                _work = null;
                work();
                Volatile.Write(ref _state, Waiting);
                Idle.GetOrAdd(CpuAffinity.PinnedCpu, _ => new ConcurrentStack<Worker>()).Push(this);
            }
        }
    }
}
