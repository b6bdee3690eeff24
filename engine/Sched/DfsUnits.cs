namespace BalloonScript.Engine.Sched;

/// <summary>
/// A bounded DFS split between host threads. A unit is the schedules that share their decisions up to their first
/// preemption (a schedule without one is a unit alone). The DFS meets the units one after the other, numbered alike on
/// every thread, as each thread walks the same tree in the same order. The first thread to reach a unit claims it and
/// runs its schedules; the others cut their run short after the unit's first preemption and go on to the next unit.
/// Under a bound of b the schedules after a first preemption are those with b - 1 more among the decisions left, so no
/// unit is more than a few per cent of a search with b ≥ 2; busy threads leave the units ahead to idle ones, and the
/// schedules of all units, in unit order, are the serial search's in its order.
/// </summary>
internal sealed class DfsUnits
{
    private readonly HashSet<int> _claimed = [];

    /// <summary>Claim <paramref name="unit"/> for the calling thread: false if another thread has it.</summary>
    public bool Claim(int unit)
    {
        lock (_claimed) return _claimed.Add(unit);
    }
}
