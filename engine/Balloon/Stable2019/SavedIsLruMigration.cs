using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Balloon.V3_18;

namespace BalloonScript.Engine.Balloon.Stable2019;

/// <summary>
/// David Hildenbrand's 2019 stable fix for 3.12–4.7 kernels, "mm: migrate: don't rely on __PageMovable() of
/// newpage after unlocking it": unmap_and_move saves <c>is_lru = !isolated_balloon_page(page)</c> before
/// migrating and decides newpage's fate from that, not from newpage after balloon_page_migrate unlocked it.
/// Everything else is the v3.18 path.
/// </summary>
[KernelPart("balloon migration", PartVersion.Stable2019)]
internal sealed class SavedIsLruMigration(IsolatedBalloonMigration v318, IBalloonMovability identity) : IBalloonMigrationPath
{
    public bool MigrationBranch(int page) => v318.MigrationBranch(page);

    public bool HandleBalloonSuccess(int rc, int page) => v318.HandleBalloonSuccess(rc, page);

    /// <summary><c>is_lru = !isolated_balloon_page(page)</c>, saved before migration.</summary>
    public bool SaveIsBalloonPage(int page) => identity.IsolatedBalloonPage(page);

    /// <summary><c>if (!is_lru) put_page(newpage)</c>.</summary>
    public bool NewPageIsBalloon(int newpage, bool saved) => saved;
}
