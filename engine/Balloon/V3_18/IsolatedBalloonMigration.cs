using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Balloon.V3_18;

/// <summary>
/// Balloon pages through migration after d6d86c0 (v3.18 mm/migrate.c and virtio_balloon.c; yifengyou backport):
/// __unmap_and_move takes balloon_page_migrate for any <c>isolated_balloon_page</c>; the driver takes the
/// balloon's reference on newpage, drops the old page's and returns MIGRATEPAGE_SUCCESS; unmap_and_move then
/// asks <c>__is_movable_balloon_page(newpage)</c> after balloon_page_migrate unlocked it — racy as merged: the
/// driver may have dequeued newpage meanwhile (fixed in 2019, <see cref="Stable2019.SavedIsLruMigration"/>).
/// </summary>
[KernelPart("balloon migration", PartVersion.V3_18)]
internal sealed class IsolatedBalloonMigration(IBalloonMovability identity) : IBalloonMigrationPath
{
    /// <summary>__unmap_and_move (v3.18): <c>isolated_balloon_page(page)</c>, true on an isolated, locked balloon page.</summary>
    public bool MigrationBranch(int page) => identity.IsolatedBalloonPage(page);

    public bool HandleBalloonSuccess(int rc, int page) => false;

    public bool SaveIsBalloonPage(int page) => false;

    /// <summary>v3.18 unmap_and_move: <c>__is_movable_balloon_page(newpage)</c> → put_page.</summary>
    public bool NewPageIsBalloon(int newpage, bool saved) => identity.IsMovableBalloonPage(newpage);
}
