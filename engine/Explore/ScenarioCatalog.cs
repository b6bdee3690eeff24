using BalloonScript.Engine.Explore.Scenarios;

namespace BalloonScript.Engine.Explore;

/// <summary>The races users can run by name (bs.explore("deflate-vs-isolate", ...)): presets written as operations.</summary>
internal static class ScenarioCatalog
{
    /// <summary>The scenarios of the four defects d6d86c0 fixed (what the golden results pin, in this order).</summary>
    public static readonly ScenarioSpec[] Defects =
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

    /// <summary>Every preset: the defects' scenarios, then further races.</summary>
    public static readonly ScenarioSpec[] All =
    [
        .. Defects,
        new("inflate-vs-compact", "fill_balloon against compaction migrating the pages it enqueues (balloon_lock makes migratepage back off)",
            16, 2, typeof(InflateVsCompactScenario)),
        new("newpage-after-unlock", "the 2019 race: leak_balloon dequeues newpage after balloon_page_migrate unlocked it and before unmap_and_move tests it (v3.18)",
            16, 2, typeof(NewpageAfterUnlockScenario)),
    ];

    public static string[] Names => All.Select(s => s.Name).ToArray();

    public static ScenarioSpec Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"scenario must be one of {string.Join(", ", Names)}, got '{name}'", "scenario");
}
