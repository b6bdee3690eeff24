using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BenchmarkDotNet.Attributes;

namespace BalloonScript.Bench;

/// <summary>
/// What one switch between two simulated CPUs costs, the two ways issue 11 names: the engine's way, two OS threads held
/// on one host CPU passing a <see cref="Baton"/> (what every preemption of a switching run pays), against two
/// continuations on one thread (async methods that park at the switch and are resumed by a run loop: no OS involved).
/// And what an async call costs when it does not switch: with continuations every kernel path that can reach a
/// preemption point is an async twin of itself, paying that per call. The three numbers are why which way is faster
/// depends on how often a race switches, and each race measures it (<see cref="Engine.Sched.ContinuationChoice"/>).
/// </summary>
public class HandOffBenchmarks
{
    private const int HandOffs = 10_000;
    private const int Calls = 10_000;

    /// <summary>Two OS threads on one host CPU hand a baton back and forth, as a switching run's threads do.</summary>
    [Benchmark(OperationsPerInvoke = HandOffs)]
    public void ThreadBatonOneCpu()
    {
        var (ping, pong) = (new Baton(), new Baton());
        using var held = CpuAffinity.Hold();
        int cpu = CpuAffinity.PinnedCpu;
        var other = new Thread(() =>
        {
            CpuAffinity.Pin(cpu);
            for (int i = 0; i < HandOffs / 2; i++)
            {
                pong.Wait();
                ping.Release();
            }
        });
        other.Start();
        for (int i = 0; i < HandOffs / 2; i++)
        {
            pong.Release();
            ping.Wait();
        }
        other.Join();
    }

    /// <summary>Two continuations on this thread hand the CPU back and forth through a run loop.</summary>
    [Benchmark(OperationsPerInvoke = HandOffs)]
    public void ContinuationOneThread()
    {
        var cpus = new TwoCpus();
        _ = cpus.Run(0, HandOffs / 2);
        _ = cpus.Run(1, HandOffs / 2);
        cpus.Loop();
    }

    /// <summary>Five nested async calls that complete without switching, per call (the cost an async twin adds to each).</summary>
    [Benchmark(OperationsPerInvoke = Calls * 5)]
    public int AsyncCallNotSwitching()
    {
        int sum = 0;
        for (int i = 0; i < Calls; i++) sum += Nested(5, i).Result;
        return sum;
    }

    /// <summary>The same five nested calls made synchronously, per call.</summary>
    [Benchmark(OperationsPerInvoke = Calls * 5)]
    public int SyncCall()
    {
        int sum = 0;
        for (int i = 0; i < Calls; i++) sum += NestedSync(5, i);
        return sum;
    }

    private static async ValueTask<int> Nested(int depth, int x) => depth == 0 ? x : await Nested(depth - 1, x + 1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int NestedSync(int depth, int x) => depth == 0 ? x : NestedSync(depth - 1, x + 1);

    /// <summary>
    /// Two simulated CPUs as continuations: a CPU that switches parks its continuation and names the other's as the next
    /// to run; the loop runs it once the switching method has returned to it (no stack grows from one switch to the next).
    /// </summary>
    private sealed class TwoCpus
    {
        private readonly Action?[] _parked = new Action?[2];
        private Action? _next;
        private int _running;

        public async Task Run(int cpu, int switches)
        {
            if (cpu != _running) await new Switch(this, cpu, park: true);
            for (int i = 0; i < switches; i++) await new Switch(this, 1 - cpu, park: false);
        }

        public void Loop()
        {
            while (_next is { } next)
            {
                _next = null;
                next();
            }
        }

        private readonly struct Switch(TwoCpus cpus, int to, bool park) : ICriticalNotifyCompletion
        {
            public Switch GetAwaiter() => this;
            public bool IsCompleted => false;
            public void GetResult() { }
            public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

            public void UnsafeOnCompleted(Action continuation)
            {
                if (park) // not this CPU's turn yet: wait to be switched to
                {
                    cpus._parked[to] = continuation;
                    return;
                }
                cpus._parked[cpus._running] = continuation;
                cpus._running = to;
                cpus._next = cpus._parked[to];
                cpus._parked[to] = null;
            }
        }
    }
}
