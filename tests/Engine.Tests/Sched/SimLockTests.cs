using BalloonScript.Engine.Sched;
using NUnit.Framework;
using static BalloonScript.Engine.Tests.Sched.SchedulerTests;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>SimLock's misuse by a simulated path (the paths the inlined fast paths hand to their out-of-line part).</summary>
public class SimLockTests
{
    private static (Scheduler Scheduler, SimLock Lock) ZoneLock()
    {
        var s = NewScheduler();
        return (s, new SimLock(s, "zone->lock"));
    }

    [Test]
    public void Lock_TakenAgainByItsHolder_Throws_NamingTheLockAndThePath()
    {
        var (s, zoneLock) = ZoneLock();

        var e = Assert.Throws<InvalidOperationException>(() => s.RunOnMain(() =>
        {
            zoneLock.Lock();
            zoneLock.Lock();
        }));

        Assert.That(e!.Message, Is.EqualTo("recursive locking of zone->lock by main"));
    }

    [Test]
    public void Unlock_ByAPathThatDoesNotHoldIt_Throws_AndLeavesTheLockFree()
    {
        var (s, zoneLock) = ZoneLock();

        var e = Assert.Throws<InvalidOperationException>(() => s.RunOnMain(zoneLock.Unlock));

        Assert.That(e!.Message, Is.EqualTo("main unlocks zone->lock it does not hold"));
        Assert.That(zoneLock.IsLocked, Is.False);
    }

    [Test]
    public void LockAndUnlock_EachPassAPreemptionPoint()
    {
        var (s, zoneLock) = ZoneLock();
        long before = s.Step;

        s.RunOnMain(() =>
        {
            zoneLock.Lock();
            zoneLock.Unlock();
            Assert.That(zoneLock.TryLock(), Is.True);
            zoneLock.Unlock();
        });

        Assert.That(s.Step - before, Is.EqualTo(4));
    }
}
