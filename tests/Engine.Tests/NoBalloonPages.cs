using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Migrate;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// Test-only <see cref="IBalloonCompaction"/> for a guest without a balloon: no page is a balloon page, so
/// compaction and migration take their LRU paths only. The real designs are registered by the balloon code.
/// </summary>
internal sealed class NoBalloonPages : IBalloonCompaction
{
    public bool IsolateFromScanner(int pfn, bool lruLocked) => false;
    public bool MigrationBranch(int page) => false;
    public int BalloonPageMigrate(int newpage, int page, MigrateMode mode) => throw new InvalidOperationException("no balloon pages");
    public int MappingMigratePage(int mapping, int newpage, int page, MigrateMode mode) => throw new InvalidOperationException("no balloon mapping");
    public bool HandleBalloonSuccess(int rc, int page) => false;
    public bool IsMovableBalloonPage(int pfn) => false;
    public bool IsolatedBalloonPage(int pfn) => false;
    public void Putback(int pfn) => throw new InvalidOperationException("no balloon pages");
}
