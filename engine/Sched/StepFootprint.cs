namespace BalloonScript.Engine.Sched;

/// <summary>
/// One step's accesses (<see cref="StepAccesses"/>): the nodes read and written, sorted and distinct, and whether the
/// step is ordered against every other step.
/// </summary>
internal sealed record StepFootprint(int[] Reads, int[] Writes, bool Global)
{
    /// <summary>
    /// Dependent: the two steps may not commute as far as pages and locks go (either is global, or one writes what
    /// the other reads or writes).
    /// </summary>
    public bool DependsOn(StepFootprint other) =>
        Global || other.Global || Meet(Writes, other.Writes) || Meet(Writes, other.Reads) || Meet(Reads, other.Writes);

    private static bool Meet(int[] a, int[] b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) return true;
            if (a[i] < b[j]) i++;
            else j++;
        }
        return false;
    }
}
