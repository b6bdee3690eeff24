using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Migrate;

/// <summary>
/// The walks over a list of isolated pages that v3.16 and v4.8 mm/migrate.c share: the passes of <c>migrate_pages</c>
/// and the walk of <c>putback_movable_pages</c>. What each version does with a page, counts and returns is its own
/// (<see cref="V3_16.Migration"/>, <see cref="V4_8.Migration"/>).
/// </summary>
internal static partial class MigrateLists
{
    public const int MaxPasses = 10;

    /// <summary>What the passes saw: pages migrated, failed for good, still retrying after the last pass, and whether -ENOMEM stopped them.</summary>
    public readonly record struct Outcome(int Succeeded, int Failed, int Retry, bool NoMemory);

    /// <summary>
    /// migrate_pages' passes: with PF_SWAPWRITE set, up to 10 passes over <paramref name="from"/> while pages ask to be
    /// retried, each page through <paramref name="unmapAndMove"/> (with <c>force</c> from the fourth pass); -ENOMEM (no
    /// target page) stops at once.
    /// </summary>
    [Preemptible]
    public static Outcome MigratePagesPasses(Scheduler scheduler, PageLists lists, SimClock clock, int from, [Preemptible] Func<int, bool, int> unmapAndMove)
    {
        var task = scheduler.Current;
        var savedFlags = task.Flags;
        task.Flags |= PF.SwapWrite;
        int retry = 1, failed = 0, succeeded = 0;
        bool noMemory = false, broken = false;
        for (int pass = 0; pass < MaxPasses && retry > 0 && !noMemory && !broken; pass++)
        {
            retry = 0;
            var walk = lists.Entries(from, "migrate_pages");
            while (walk.MoveNext())
            {
                int page = walk.Current;
                clock.CondResched();
                int rc = unmapAndMove(page, pass > 2);
                if (noMemory = rc == MigrateRc.ENoMem) break;
                if (rc == MigrateRc.EAgain) retry++;
                else if (rc == MigrateRc.Success) succeeded++;
                else failed++;
            }
            broken = walk.Broken;
        }
        if ((savedFlags & PF.SwapWrite) == 0) task.Flags &= ~PF.SwapWrite;
        return new Outcome(succeeded, failed, retry, noMemory);
    }

    /// <summary>putback_movable_pages' walk (list_for_each_entry_safe): each page off <paramref name="list"/>, then the version's putback of it.</summary>
    [Preemptible]
    public static void PutbackEach(PageLists lists, int list, [Preemptible] Action<int> putback)
    {
        foreach (int page in lists.Entries(list, "putback_movable_pages"))
        {
            lists.Del(page);
            putback(page);
        }
    }
}
