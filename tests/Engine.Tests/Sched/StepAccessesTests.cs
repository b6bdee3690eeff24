using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// Dependence of two steps through a shared value (<see cref="SharedArray"/>): additions commute with additions, not
/// with a read or a store; different elements never conflict.
/// </summary>
public class StepAccessesTests
{
    public enum Access { Read, Add, Store }

    private static void Record(StepAccesses a, Access access, int element)
    {
        switch (access)
        {
            case Access.Read: a.ReadShared(element); break;
            case Access.Add: a.AddToShared(element); break;
            default: a.WriteShared(element); break;
        }
    }

    [TestCase(Access.Add, Access.Add, false)]
    [TestCase(Access.Read, Access.Read, false)]
    [TestCase(Access.Add, Access.Read, true)]
    [TestCase(Access.Read, Access.Add, true)]
    [TestCase(Access.Store, Access.Add, true)]
    [TestCase(Access.Add, Access.Store, true)]
    [TestCase(Access.Store, Access.Read, true)]
    [TestCase(Access.Read, Access.Store, true)]
    [TestCase(Access.Store, Access.Store, true)]
    public void SharedElement_TwoStepsConflict_UnlessBothOnlyAddOrBothOnlyRead(Access first, Access second, bool conflict)
    {
        var accesses = new StepAccesses { On = true };
        Record(accesses, first, 3);
        var firstStep = accesses.Take();
        Record(accesses, second, 3);
        Assert.That(accesses.Conflicts(firstStep), Is.EqualTo(conflict), "same element");
        accesses.Clear();
        Record(accesses, second, 4);
        Assert.That(accesses.Conflicts(firstStep), Is.False, "another element");
    }

    [Test]
    public void SharedElements_AreKeyedApartFromPagesAndLocks()
    {
        var accesses = new StepAccesses { On = true };
        accesses.WriteShared(0);
        var step = accesses.Take();
        accesses.Write(0);
        accesses.Lock(0);
        Assert.That(accesses.Conflicts(step), Is.False, "page 0 and lock 0 are not shared element 0");
    }
}
