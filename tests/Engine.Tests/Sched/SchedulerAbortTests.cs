using BalloonScript.Engine.Sched;
using NUnit.Framework;
using static BalloonScript.Engine.Tests.Sched.SchedulerTests;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// How a run ends when it cannot finish normally (a deadlock, a failing task, a failing strategy): the
/// remaining paths are unwound one at a time as the running task, the run never hangs, and the failure surfaces.
/// </summary>
public class SchedulerAbortTests
{
    /// <summary>
    /// A path that never ends (here one looping at a preemption point; in a race, a wait the schedule never lets end) is
    /// stopped at Scheduler.MaxStepsPerRun and reported like a deadlock, its trace no longer than the bound: unbounded,
    /// such a run grew its trace until the host ran out of memory.
    /// </summary>
    [Test]
    public void Livelock_APathThatNeverEnds_IsStoppedAtTheStepBoundAndReported()
    {
        var s = NewScheduler();
        bool unwound = false;
        var spinner = new SimTask(0, 0, "spinner", () =>
        {
            try { while (true) s.Preempt("spin"); }
            finally { unwound = true; }
        });

        var outcome = Guarded(() => s.Run([spinner, new SimTask(1, 1, "other", () => s.Preempt("once"))], new RoundRobinStrategy()));

        Assert.That(outcome.Deadlock, Is.EqualTo("livelock: no end after 2,000,000 preemption points (spinner on cpu0 at spin)"));
        Assert.That(s.Trace, Has.Count.EqualTo(Scheduler.MaxStepsPerRun + 1));
        Assert.That(unwound, Is.True, "the path unwound");
    }

    [Test]
    public void Abort_UnwindsEachPathAloneAsTheCurrentTask()
    {
        var s = NewScheduler();
        var lockA = new SimLock(s, "lock_A");
        var lockB = new SimLock(s, "lock_B");
        int inside = 0, most = 0;
        var unwoundAs = new List<string>();
        SimTask Task(int id, string name, SimLock first, SimLock second) => new(id, id, name, () =>
        {
            first.Lock();
            try
            {
                s.Preempt("between the locks");
                second.Lock();
                second.Unlock();
            }
            finally
            {
                most = Math.Max(most, Interlocked.Increment(ref inside));
                Thread.SpinWait(100_000);
                unwoundAs.Add(s.Current.Name);
                first.Unlock(); // a preemption point: must not switch while aborting
                Interlocked.Decrement(ref inside);
            }
        });

        var outcome = Guarded(() => s.Run([Task(0, "a", lockA, lockB), Task(1, "b", lockB, lockA)], new RoundRobinStrategy()));

        Assert.That(outcome.Deadlock, Does.Contain("deadlock"));
        Assert.That(unwoundAs, Is.EquivalentTo(new[] { "a", "b" }), "each path unwinds as itself, so it can release its locks");
        Assert.That(most, Is.EqualTo(1), "one path at a time");
        Assert.That((lockA.IsLocked, lockB.IsLocked), Is.EqualTo((false, false)));
    }

    [Test]
    public void Abort_APathThatWouldBlockWhileUnwindingIsUnwoundFurther()
    {
        var s = NewScheduler();
        var lockA = new SimLock(s, "lock_A");
        var lockB = new SimLock(s, "lock_B");
        bool cleanupRan = false;
        var a = new SimTask(0, 0, "a", () =>
        {
            lockA.Lock();
            try
            {
                s.Preempt("between the locks");
                lockB.Lock();
            }
            finally
            {
                lockB.Lock(); // held by b, which is blocked: cannot be waited for during the abort
                cleanupRan = true;
            }
        });
        var b = new SimTask(1, 1, "b", () =>
        {
            lockB.Lock();
            s.Preempt("between the locks");
            lockA.Lock();
        });

        var outcome = Guarded(() => s.Run([a, b], new RoundRobinStrategy()));

        Assert.That(outcome.Deadlock, Does.Contain("deadlock"));
        Assert.That(cleanupRan, Is.False);
    }

    [Test]
    public void Abort_InlineRunKeepsTheAbortedTaskCurrentWhileItUnwinds()
    {
        var s = NewScheduler();
        var held = new SimLock(s, "held");
        var other = new SimLock(s, "other");
        var t0 = new SimTask(0, 0, "t0", () => held.Lock()); // returns still holding it
        var t1 = new SimTask(1, 1, "t1", () =>
        {
            other.Lock();
            try { held.Lock(); }
            finally { other.Unlock(); }
        });
        bool t2Ran = false;
        var t2 = new SimTask(2, 2, "t2", () => t2Ran = true);

        var outcome = s.Run([t0, t1, t2], null);

        Assert.That(outcome.Deadlock, Does.Contain("t1 on cpu1 blocks on held with no other CPU running"));
        Assert.That(other.IsLocked, Is.False);
        Assert.That(t2Ran, Is.False, "the run stops at the abort");
    }

    [Test]
    public void TaskException_SurfacesAndTheOtherPathsAreUnwound()
    {
        var s = NewScheduler();
        bool bUnwound = false;
        int bSteps = 0;
        var a = new SimTask(0, 0, "a", () =>
        {
            s.Preempt("a1");
            throw new InvalidDataException("boom");
        });
        var b = new SimTask(1, 1, "b", () =>
        {
            try
            {
                for (; bSteps < 100; bSteps++) s.Preempt("b");
            }
            finally { bUnwound = true; }
        });

        var e = Assert.Throws<InvalidOperationException>(() => Guarded(() => s.Run([a, b], new RoundRobinStrategy())));

        Assert.That(e!.InnerException, Is.TypeOf<InvalidDataException>().With.Message.EqualTo("boom"));
        Assert.That(bUnwound, Is.True);
        Assert.That(bSteps, Is.LessThan(100), "b was aborted, not run to its end");
        Assert.That(s.Switching, Is.False);
        Assert.That(Guarded(() => s.Run([new SimTask(0, 0, "x", () => s.Preempt("x")), new SimTask(1, 1, "y", () => { })], new RoundRobinStrategy())).Completed);
    }

    [Test]
    public void TaskException_InlineRunPropagatesItUnchanged()
    {
        var s = NewScheduler();
        bool secondRan = false;

        Assert.Throws<InvalidDataException>(() => s.Run(
            [new SimTask(0, 0, "a", () => throw new InvalidDataException("boom")), new SimTask(1, 1, "b", () => secondRan = true)], null));

        Assert.That(secondRan, Is.False);
        Assert.That(s.Current.Name, Is.EqualTo("main"));
    }

    /// <summary>A strategy that fails at a chosen kind of decision.</summary>
    private sealed class FailingStrategy(Func<SimTask, bool> failWhen) : IScheduleStrategy
    {
        public void Start(IReadOnlyList<SimTask> tasks) { }

        public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step) =>
            failWhen(current) ? throw new ApplicationException("strategy failed") : runnable[0];
    }

    [Test]
    public void StrategyFailure_WhenATaskFinishes_SurfacesInsteadOfKillingTheProcess()
    {
        var s = NewScheduler();
        var tasks = new[] { new SimTask(0, 0, "a", () => s.Preempt("a")), new SimTask(1, 1, "b", () => s.Preempt("b")) };

        var e = Assert.Throws<InvalidOperationException>(() => Guarded(() => s.Run(tasks, new FailingStrategy(t => t.Done))));

        Assert.That(e!.InnerException, Is.TypeOf<ApplicationException>());
        Assert.That(tasks.All(t => t.Done));
        Assert.That(s.Switching, Is.False);
    }

    [Test]
    public void StrategyFailure_AtTheFirstDecision_LeavesTheSchedulerUsable()
    {
        var s = NewScheduler();
        SimTask[] Tasks() => [new SimTask(0, 0, "a", () => s.Preempt("a")), new SimTask(1, 1, "b", () => s.Preempt("b"))];

        Assert.Throws<ApplicationException>(() => Guarded(() => s.Run(Tasks(), new FailingStrategy(_ => true))));

        Assert.That(s.Switching, Is.False);
        Assert.That(s.Current.Name, Is.EqualTo("main"));
        Assert.That(Guarded(() => s.Run(Tasks(), new RoundRobinStrategy())).Completed);
    }

    [Test]
    public void RunToCompletion_AWokenPathBlockingOnALockItsWakerHolds_EndsThePathWithTheReason()
    {
        var s = NewScheduler();
        var mutex = new SimLock(s, "vb->balloon_lock");
        bool wakerWentOn = false;

        var outcome = s.RunOnMain(() =>
        {
            mutex.Lock();
            s.RunWoken(new SimTask(7, 0, "vballoon", () => mutex.Lock()));
            wakerWentOn = true;
        });

        Assert.That(outcome.Deadlock, Does.Contain("vballoon on cpu0 blocks on vb->balloon_lock with no other CPU running"));
        Assert.That(wakerWentOn, Is.False, "nothing can run the waker on: the path ends there");
        Assert.That(s.Current.Name, Is.EqualTo("main"));
        Assert.That(s.RunOnMain(() => s.Preempt("later")).Completed, "the next run starts clean");
    }

    [Test]
    public void WhenUnlocked_RunToCompletion_TheWaiterRunsRightAfterTheRelease_HoldingNothing()
    {
        var s = NewScheduler();
        var mutex = new SimLock(s, "vb->balloon_lock");
        var order = new List<string>();

        var outcome = s.RunOnMain(() =>
        {
            mutex.Lock();
            mutex.WhenUnlocked(() => order.Add(mutex.IsLocked ? "waiter, locked" : "waiter, free"));
            order.Add("holder");
            mutex.Unlock();
            order.Add("holder after unlock");
        });

        Assert.That(outcome.Completed);
        Assert.That(order, Is.EqualTo(new[] { "holder", "waiter, free", "holder after unlock" }));
    }
}
