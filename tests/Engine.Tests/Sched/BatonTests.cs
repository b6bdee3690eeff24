using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>The hand-off between the threads of a switching run: no release is ever lost, whether the waiter is still
/// spinning, about to sleep or asleep; a timed wait ends without one.</summary>
public class BatonTests
{
    [Test]
    public void PingPong_EveryReleaseWakesTheWaiter_WhateverItWasDoing()
    {
        const int rounds = 20_000;
        var there = new Baton();
        var back = new Baton();
        var other = new Thread(() =>
        {
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
