using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// The execution model: run-to-completion, seeded strategies, replay, simulated locks and deadlock detection.
/// Every switching run is started through <see cref="Guarded"/>, so a hang fails the test instead of the suite.
/// </summary>
public class SchedulerTests
{
    internal static Scheduler NewScheduler(int cpus = 4, FatalSignal? signal = null) => new(new SimulationOptions { Cpus = cpus }, signal ?? new FatalSignal());

    /// <summary>A run that must end within a minute (<see cref="Bounded.Run{T}"/>): rethrows what the run threw.</summary>
    internal static RunOutcome Guarded(Func<RunOutcome> run) => Bounded.Run(run, "the run", seconds: 60);

    private sealed record Logged(List<string> Log, RunOutcome Outcome, int[] Choices, TraceEntry[] Trace);

    /// <summary>Three tasks, each logging five steps with a preemption point after each.</summary>
    private static Logged RunLogged(IScheduleStrategy? strategy)
    {
        var s = NewScheduler();
        var log = new List<string>();
        var tasks = Enumerable.Range(0, 3).Select(i => new SimTask(i, i, $"t{i}", () =>
        {
            for (int k = 0; k < 5; k++)
            {
                log.Add($"t{i}.{k}");
                s.Preempt($"p{k}");
            }
        })).ToList();
        var outcome = strategy is null ? s.Run(tasks, null) : Guarded(() => s.Run(tasks, strategy));
        return new Logged(log, outcome, [.. s.Choices], [.. s.Trace]);
    }

    private static readonly string[] InOrder = [.. Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(0, 5).Select(k => $"t{i}.{k}"))];

    [Test]
    public void RunToCompletion_RunsTasksInListOrderOnTheCallersThread()
    {
        var s = NewScheduler();
        var threads = new List<int>();
        var order = new List<string>();
        var tasks = Enumerable.Range(0, 3).Select(i => new SimTask(i, i, $"t{i}", () =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            order.Add(s.Current.Name);
            s.Preempt("p");
            order.Add(s.Current.Name);
        })).ToList();

        var outcome = s.Run(tasks, null);

        Assert.That(order, Is.EqualTo(new[] { "t0", "t0", "t1", "t1", "t2", "t2" }));
        Assert.That(threads, Is.All.EqualTo(Environment.CurrentManagedThreadId));
        Assert.That(outcome, Is.EqualTo(new RunOutcome(null, 3, false)));
        Assert.That(s.Current.Name, Is.EqualTo("main"));
    }

    /// <summary>
    /// Two tasks switching under a random strategy on a thread held on <paramref name="spread"/> CPUs (one: pinned there):
    /// the log of steps, and the host CPUs each task ran its steps on.
    /// </summary>
    private static (List<string> Log, HashSet<int>[] HostCpus, int[] Choices) RunPlaced(int[] cpus, bool spread, int nTasks = 2)
    {
        var s = NewScheduler(nTasks);
        var log = new List<string>();
        var hostCpus = Enumerable.Range(0, nTasks).Select(_ => new HashSet<int>()).ToArray();
        var tasks = Enumerable.Range(0, nTasks).Select(i => new SimTask(i, i, $"t{i}", () =>
        {
            for (int k = 0; k < 40; k++)
            {
                log.Add($"t{i}.{k}");
                hostCpus[i].Add(CpuAffinity.Current());
                s.Preempt("p");
            }
        })).ToList();
        Guarded(() =>
        {
            using var held = spread ? CpuAffinity.HoldSpread(cpus) : CpuAffinity.Hold(cpus[0]);
            return s.Run(tasks, new RandomStrategy(11));
        });
        return (log, hostCpus, [.. s.Choices]);
    }

    [Test]
    public void SpreadRun_EachTaskOnAHostCpuOfItsOwn_PinnedRun_AllOnOne_SameInterleaving()
    {
        var cpus = CpuAffinity.Allowed();
        Assume.That(cpus, Has.Length.GreaterThan(1), "needs two host CPUs");
        var pinned = RunPlaced(cpus[..2], spread: false);
        var spread = RunPlaced(cpus[..2], spread: true);

        Assert.That(pinned.HostCpus.SelectMany(c => c).Distinct(), Is.EqualTo(new[] { cpus[0] }));
        Assert.That(spread.HostCpus.Select(c => c.Single()).Order(), Is.EqualTo(cpus[..2]), "one host CPU per task, each its own");
        Assert.That(spread.Log, Is.EqualTo(pinned.Log));
        Assert.That(spread.Choices, Is.EqualTo(pinned.Choices));
        Assert.That(pinned.Log.Take(40), Is.Not.EqualTo(Enumerable.Range(0, 40).Select(k => $"t0.{k}")), "the tasks did interleave");
    }

    [Test]
    public void SpreadOverTooFewCpus_TheRunStaysPinnedOnTheFirst()
    {
        var cpus = CpuAffinity.Allowed();
        Assume.That(cpus, Has.Length.GreaterThan(1), "needs two host CPUs");
        var run = RunPlaced(cpus[..2], spread: true, nTasks: 3);
        Assert.That(run.HostCpus.SelectMany(c => c).Distinct(), Is.EqualTo(new[] { cpus[0] }));
        Assert.That(run.Log, Has.Count.EqualTo(120));
    }

    [Test]
    public void RandomStrategy_SameSeedGivesTheSameChoicesAndTrace()
    {
        var a = RunLogged(new RandomStrategy(42));
        var b = RunLogged(new RandomStrategy(42));

        Assert.That(a.Log, Is.Not.EqualTo(InOrder), "the strategy did switch");
        Assert.That(b.Log, Is.EqualTo(a.Log));
        Assert.That(b.Choices, Is.EqualTo(a.Choices));
        Assert.That(b.Trace, Is.EqualTo(a.Trace));
        Assert.That(a.Trace, Has.Length.EqualTo(15));
    }

    [Test]
    public void RandomStrategy_DifferentSeedsInterleaveDifferently()
    {
        var logs = Enumerable.Range(1, 10).Select(seed => string.Join(",", RunLogged(new RandomStrategy(seed)).Log)).ToHashSet();
        Assert.That(logs, Has.Count.GreaterThan(5));
    }

    [Test]
    public void ReplayStrategy_ReproducesARecordedRunExactly()
    {
        var recorded = RunLogged(new RandomStrategy(7));

        var replayed = RunLogged(new ReplayStrategy(recorded.Choices));

        Assert.That(replayed.Log, Is.EqualTo(recorded.Log));
        Assert.That(replayed.Trace, Is.EqualTo(recorded.Trace));
        Assert.That(replayed.Choices, Is.EqualTo(recorded.Choices));
    }

    [Test]
    public void ReplayStrategy_DivergenceSurfacesAsAnException()
    {
        var recorded = RunLogged(new RandomStrategy(7));

        var e = Assert.Throws<InvalidOperationException>(() => RunLogged(new ReplayStrategy(recorded.Choices.Take(4).ToArray())));

        Assert.That(e!.Message, Does.Contain("replay diverged"));
    }

    [Test]
    public void PctStrategy_IsDeterministicPerSeed()
    {
        var a = RunLogged(new PctStrategy(3, 3, 20));
        var b = RunLogged(new PctStrategy(3, 3, 20));

        Assert.That(b.Log, Is.EqualTo(a.Log));
        Assert.That(b.Choices, Is.EqualTo(a.Choices));
        Assert.That(b.Trace, Is.EqualTo(a.Trace));
        var logs = Enumerable.Range(1, 10).Select(seed => string.Join(",", RunLogged(new PctStrategy(seed, 3, 20)).Log)).ToHashSet();
        Assert.That(logs, Has.Count.GreaterThan(1), "different seeds explore different schedules");
    }

    [Test]
    public void Baton_OnlyOneThreadRunsSimulatedCodeAtATime()
    {
        for (int seed = 1; seed <= 5; seed++)
        {
            var s = NewScheduler();
            int inside = 0, most = 0;
            var tasks = Enumerable.Range(0, 4).Select(i => new SimTask(i, i, $"t{i}", () =>
            {
                for (int k = 0; k < 20; k++)
                {
                    most = Math.Max(most, Interlocked.Increment(ref inside));
                    Thread.SpinWait(2000);
                    Interlocked.Decrement(ref inside);
                    s.Preempt("p");
                }
            })).ToList();

            Assert.That(Guarded(() => s.Run(tasks, new RandomStrategy(seed))).Completed);
            Assert.That(most, Is.EqualTo(1), $"seed {seed}");
        }
    }

    /// <summary>Two tasks add 1 to a shared counter <paramref name="rounds"/> times each, reading and writing
    /// it with a preemption point in between, inside <paramref name="useLock"/> or not.</summary>
    private static int CountWithRace(long seed, bool useLock, int rounds = 20)
    {
        var s = NewScheduler();
        var lk = new SimLock(s, "counter_lock");
        int counter = 0;
        void Body()
        {
            for (int k = 0; k < rounds; k++)
            {
                if (useLock) lk.Lock();
                int v = counter;
                s.Preempt("between read and write");
                counter = v + 1;
                if (useLock) lk.Unlock();
            }
        }
        var outcome = Guarded(() => s.Run([new SimTask(0, 0, "a", Body), new SimTask(1, 1, "b", Body)], new RandomStrategy(seed)));
        Assert.That(outcome.Completed);
        return counter;
    }

    [Test]
    public void SimLock_MutualExclusionHoldsUnderRandomSchedules()
    {
        var withLock = Enumerable.Range(1, 20).Select(seed => CountWithRace(seed, true)).ToList();
        var without = Enumerable.Range(1, 20).Select(seed => CountWithRace(seed, false)).ToList();

        Assert.That(withLock, Is.All.EqualTo(40));
        Assert.That(without, Has.Some.LessThan(40), "without the lock an update is lost for some schedule");
    }

    /// <summary>a takes first then second, b takes second then first: the AB-BA deadlock.</summary>
    private static (SimTask A, SimTask B) AbBa(Scheduler s, SimLock first, SimLock second)
    {
        void Take(SimLock x, SimLock y)
        {
            x.Lock();
            s.Preempt("between the locks");
            y.Lock();
            y.Unlock();
            x.Unlock();
        }
        return (new SimTask(0, 0, "a", () => Take(first, second)), new SimTask(1, 1, "b", () => Take(second, first)));
    }

    [Test]
    public void Deadlock_AbBaIsDetectedAndReportedNotHung()
    {
        var s = NewScheduler();
        var (a, b) = AbBa(s, new SimLock(s, "lock_A"), new SimLock(s, "lock_B"));

        var outcome = Guarded(() => s.Run([a, b], new RoundRobinStrategy()));

        Assert.That(outcome.Completed, Is.False);
        Assert.That(outcome.Deadlock, Does.Contain("deadlock").And.Contain("a on lock_B").And.Contain("b on lock_A"));
    }

    [Test]
    public void Deadlock_RandomSchedulesEitherCompleteOrReportTheDeadlock()
    {
        var outcomes = Enumerable.Range(1, 30).Select(seed =>
        {
            var s = NewScheduler();
            var (a, b) = AbBa(s, new SimLock(s, "lock_A"), new SimLock(s, "lock_B"));
            return Guarded(() => s.Run([a, b], new RandomStrategy(seed)));
        }).ToList();

        Assert.That(outcomes, Has.Some.Matches<RunOutcome>(o => o.Completed));
        Assert.That(outcomes, Has.Some.Matches<RunOutcome>(o => o.Deadlock is not null && o.Deadlock.Contains("deadlock")));
    }
}
