using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>The hand-off between the threads of a switching run: no release is ever lost, whether the waiter is still
/// spinning or yielding, about to sleep or asleep; a timed wait ends without one.</summary>
public class BatonTests
{
    /// <summary>Also between the threads of a spread run, on two CPUs, each busy-waiting (sleeping past its budget).</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void PingPong_EveryReleaseWakesTheWaiter_WhateverItWasDoing(bool spinning)
    {
        const int rounds = 20_000;
        var cpus = CpuAffinity.Allowed();
        if (spinning) Assume.That(cpus, Has.Length.GreaterThan(1), "needs two host CPUs");
        using var held = spinning ? CpuAffinity.HoldSpread(cpus[..2]) : null;
        if (spinning)
        {
            CpuAffinity.PinSpinning(cpus[0]); // as a spread run does for its caller's thread
            Assert.That(CpuAffinity.Spinning, "the test's thread waits spinning");
        }
        var there = new Baton();
        var back = new Baton();
        var other = new Thread(() =>
        {
            if (spinning) CpuAffinity.PinSpinning(cpus[1]);
            for (int i = 0; i < rounds; i++)
            {
                there.Wait();
                if (i % 97 == 0) Thread.Sleep(1); // the other side gets past spinning and sleeps
                else if (i % 7 == 0) Thread.SpinWait(i % 500);
                back.Release();
            }
        }) { IsBackground = true };
        other.Start();
        for (int i = 0; i < rounds; i++)
        {
            there.Release();
            if (i % 89 == 0) Thread.Sleep(1);
            Assert.That(back.Wait(30_000), $"round {i}: a release was lost");
        }
        Assert.That(other.Join(30_000));
    }

    [Test]
    public void Wait_WithATimeout_EndsWithoutARelease_AndStillTakesALaterOne()
    {
        var baton = new Baton();
        Assert.That(baton.Wait(20), Is.False);
        baton.Release();
        Assert.That(baton.Wait(20), Is.True);
        Assert.That(baton.Wait(0), Is.False, "a release is taken once");
    }
}
