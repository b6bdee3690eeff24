using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Migrate;

/// <summary>
/// The mm/migrate.c entry points other parts call: migrate the pages on a list, and put back what is left.
/// One implementation per kernel version (<see cref="V3_16.Migration"/>).
/// </summary>
internal partial interface IMigration
{
    /// <summary>
    /// migrate_pages: move every page on <paramref name="from"/> to a page from <paramref name="getNewPage"/>
    /// (-1 = none: -ENOMEM); unused targets go to <paramref name="putNewPage"/>. Returns -ENOMEM or the pages not
    /// migrated, which stay on the list for <see cref="PutbackMovablePages"/>.
    /// </summary>
    [Preemptible]
    int MigratePages(int from, [Preemptible] Func<int, int> getNewPage, [Preemptible] Action<int>? putNewPage, MigrateMode mode);

    /// <summary>putback_movable_pages: every page left on the list goes back where it was isolated from.</summary>
    [Preemptible]
    void PutbackMovablePages(int list);
}
