using BalloonScript.Engine.Balloon;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine.Explore;

/// <summary>
/// The numbers a scenario's outcome is judged by when it is not a sanitizer finding (defects 2 and 3 show as
/// balloon pages that do not move and order-9 blocks that do not form), read after the run.
/// </summary>
internal sealed class ScenarioMetrics(VmStat vmstat, Node node, BalloonDevInfo dev, IVirtioBalloon driver)
{
    public static readonly string[] Names =
    [
        "balloon_migrate", "pgmigrate_success", "compact_isolated", "balloon_pages", "isolated_pages",
        "free_order9_blocks", "skip_pageblocks",
    ];

    public long[] Read()
    {
        var zone = node.LargestZone;
        long order9 = 0;
        for (int o = Zone.PageblockOrder; o < Zone.MaxOrder; o++) order9 += zone.NrFree[o] << (o - Zone.PageblockOrder);
        return
        [
            vmstat.Event(VmEvent.BalloonMigrate), vmstat.Event(VmEvent.PgmigrateSuccess), vmstat.Event(VmEvent.CompactIsolated),
            driver.NumPages, dev.IsolatedPages, order9, node.Zones.Sum(z => z.PageblockSkip.Count(s => s)),
        ];
    }
}
