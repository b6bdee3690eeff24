using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// What the sleep sets keep of the rest of the state (the part compared whole): a long race takes tens of thousands of
/// steps, and the search keeps a rest for each decision where it may preempt, so equal rests must be one copy.
/// </summary>
public class SleepSetsTests
{
    [Test]
    public void Rest_AStepThatLeavesTheRestAsItWas_SharesTheLastCopy_AndAChangedRestIsANewOne()
    {
        long zoneCounter = 7;
        int captures = 0;
        var sleepSets = new SleepSets(new StepAccesses(), () =>
        {
            captures++;
            return [zoneCounter, new long[] { zoneCounter, 1 }];
        });
        var task = new SimTask(0, 0, "path", () => { });
        sleepSets.Begin();

        var before = sleepSets.Rest();
        Assert.That(sleepSets.Rest(), Is.SameAs(before), "one capture between two steps");
        sleepSets.Stepped(task);
        var unchanged = sleepSets.Rest();
        Assert.That(unchanged, Is.SameAs(before), "a step that changed nothing of the rest keeps the copy it had");

        zoneCounter = 8;
        sleepSets.Stepped(task);
        var changed = sleepSets.Rest();
        Assert.That(changed, Is.Not.SameAs(before));
        Assert.That(SleepSets.SameRest(changed, before), Is.False);
        Assert.That(changed[0], Is.EqualTo(8L));
        Assert.That(before[0], Is.EqualTo(7L), "the shared copy is never written");
        Assert.That(captures, Is.EqualTo(3));
        sleepSets.End();
    }
}
