using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Balloon;

/// <summary>
/// <c>struct balloon_dev_info</c>: the balloon's page list, the count of pages compaction has isolated from
/// it, and the spinlock protecting both (v3.16 and v3.18 include/linux/balloon_compaction.h). The simulator
/// has one balloon device; its identity, as stored in <c>mapping-&gt;private_data</c> (v3.16) or
/// <c>page-&gt;private</c> (v3.18), is <see cref="Id"/>.
/// </summary>
internal sealed class BalloonDevInfo : ISnapshotState
{
    /// <summary>What a page or mapping stores to point at this device (never 0, which is NULL).</summary>
    public const int Id = 1;

    public BalloonDevInfo(PageLists lists, Scheduler scheduler)
    {
        Pages = lists.NewHead();
        PagesLock = new SimLock(scheduler, "b_dev_info->pages_lock");
        _isolatedPages = new SharedArray(scheduler, 1);
    }

    /// <summary><c>pages</c>: head of the list of ballooned pages (through <c>page-&gt;lru</c>).</summary>
    public int Pages { get; }

    /// <summary><c>pages_lock</c>: protects <see cref="Pages"/> and <see cref="IsolatedPages"/>.</summary>
    public SimLock PagesLock { get; }

    /// <summary><c>isolated_pages</c>: balloon pages compaction has taken off the list and not yet given back.</summary>
    public long IsolatedPages
    {
        get => _isolatedPages[0];
        set => _isolatedPages.Set(0, value);
    }

    private readonly SharedArray _isolatedPages;

    /// <summary>
    /// The balloon's mapping: v3.8–v3.17's <c>mapping</c>, the fake address_space with AS_BALLOON_MAP that marks balloon
    /// pages; v4.8's <c>inode-&gt;i_mapping</c>, whose a_ops are balloon_aops; 0 in v3.18–v4.7, which have neither.
    /// </summary>
    public int Mapping { get; set; }

    /// <summary>
    /// The driver's migration callback: v3.18 and v4.8 <c>b_dev_info-&gt;migratepage</c>; in v3.16 the
    /// <c>a_ops-&gt;migratepage</c> of <see cref="Mapping"/>. Both are <c>virtballoon_migratepage</c>,
    /// set when the driver probes; null means no driver (<c>balloon_page_migrate</c> returns -EAGAIN).
    /// </summary>
    [NotState("wired when the driver probes")]
    public IDriverMigratePage? MigratePage { get; set; }

    public object Save() => (_isolatedPages.Save(), Mapping, PagesLock.Save());

    public void Restore(object saved)
    {
        (long[] isolated, int mapping, object pagesLock) = ((long[], int, object))saved;
        _isolatedPages.Restore(isolated);
        Mapping = mapping;
        PagesLock.Restore(pagesLock);
    }
}
