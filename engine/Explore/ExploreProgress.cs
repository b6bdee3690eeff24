namespace BalloonScript.Engine.Explore;

/// <summary>
/// How many schedules an exploration running on other threads has run so far (a progress bar polls it: a dfs search is
/// one call however long it takes). A search on several host threads counts each thread's schedules as it runs them.
/// </summary>
public sealed class ExploreProgress
{
    private long _schedules;

    public long Schedules => Volatile.Read(ref _schedules);

    internal void Ran() => Interlocked.Increment(ref _schedules);
}
