using BalloonScript.Engine.Explore.Scenarios;

namespace BalloonScript.Engine.Explore;

/// <summary>The scenarios users can run by name (bs.explore("deflate-vs-isolate", ...)).</summary>
internal static class ScenarioCatalog
{
    public static readonly ScenarioSpec[] All =
    [
        new("scan-vs-migrate", "defect 1: the migrate scanner's lockless balloon_page_movable() reads newpage->mapping->flags while move_to_new_page sets newpage->mapping to an anon_vma (KASAN)",
            16, 2, typeof(ScanVsMigrateScenario)),
        new("migrate-twice", "defect 2: a balloon page compacted three times; pre-d6d86c0 it moves once and loses its balloon mapping",
            16, 1, typeof(MigrateTwiceScenario)),
        new("isolate-without-lru-lock", "defect 3: pageblocks of balloon and free pages only; pre-d6d86c0 the scanner isolates balloon pages only under lru_lock",
            64, 1, typeof(IsolateWithoutLruLockScenario)),
        new("deflate-vs-isolate", "defect 4: leak_balloon's dequeue walk against compaction isolating and putting back the same balloon pages",
            16, 2, typeof(DeflateVsIsolateScenario)),
        new("deflate-vs-migrate", "defect 4 with migration: leak_balloon against compaction migrating the balloon pages it isolated (also f68b992)",
            16, 2, typeof(DeflateVsMigrateScenario)),
    ];

    public static string[] Names => All.Select(s => s.Name).ToArray();

    public static ScenarioSpec Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"scenario must be one of {string.Join(", ", Names)}, got '{name}'", "scenario");
}
