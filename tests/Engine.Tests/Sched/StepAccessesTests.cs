using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// Dependence of two steps through a shared value (<see cref="SharedArray"/>): additions commute with additions, not
/// with a read or a store; different elements never conflict.
/// </summary>
public class StepAccessesTests
{
    [TestCase("Add", "Add", false)]
    [TestCase("Read", "Read", false)]
    [TestCase("Add", "Read", true)]
    [TestCase("Read", "Add", true)]
    [TestCase("Store", "Add", true)]
    [TestCase("Add", "Store", true)]
    [TestCase("Store", "Read", true)]
    [TestCase("Read", "Store", true)]
    [TestCase("Store", "Store", true)]
    public void SharedElement_TwoStepsConflict_UnlessBothOnlyAddOrBothOnlyRead(string firstAccess, string secondAccess, bool conflict)
    {
        var (first, second) = (Enum.Parse<StepAccesses.Access>(firstAccess), Enum.Parse<StepAccesses.Access>(secondAccess));
        var accesses = new StepAccesses { On = true };
        accesses.Shared(3, first);
        var firstStep = accesses.Take();
        accesses.Shared(3, second);
        Assert.That(accesses.Conflicts(firstStep), Is.EqualTo(conflict), "same element");
        accesses.Clear();
        accesses.Shared(4, second);
        Assert.That(accesses.Conflicts(firstStep), Is.False, "another element");
    }

    /// <summary>
    /// The recording is compiled in for this process unless it was started with <see cref="ReductionSwitch.Variable"/> =
    /// off (the switch is set before the engine first reads it: `make test` runs the tests outside Explore that way).
    /// </summary>
    [Test]
    public void Compiled_IsTheTestProcessSwitch() =>
        Assert.That(StepAccesses.Compiled, Is.EqualTo(Environment.GetEnvironmentVariable(ReductionSwitch.Variable) != "off"));

    /// <summary>Page 0, lock 0, shared element 0 and slot 0 of a process are four different things.</summary>
    [Test]
    public void PagesLocksSharedElementsAndProcessSlots_AreKeyedApart()
    {
        Action<StepAccesses>[] writes =
        [
            a => a.Write(0),
            a => a.Lock(0),
            a => a.Shared(0, StepAccesses.Access.Store),
            a => a.Process(0, 0, StepAccesses.Access.Store),
            a => a.Process(1, -1, StepAccesses.Access.Store),
        ];
        var accesses = new StepAccesses { On = true };
        for (int i = 0; i < writes.Length; i++)
            for (int j = 0; j < writes.Length; j++)
            {
                writes[i](accesses);
                var step = accesses.Take();
                writes[j](accesses);
                Assert.That(accesses.Conflicts(step), Is.EqualTo(i == j), $"write {i} against write {j}");
                accesses.Clear();
            }
    }
}
