using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// A driver's <c>a_ops-&gt;migratepage(mapping, newpage, page, mode)</c> (v3.16's <c>virtio_balloon_aops</c>; v3.18's
/// <c>b_dev_info-&gt;migratepage</c> has the same signature): a function pointer in the kernel, an interface here so that
/// a call through it has an async twin.
/// </summary>
internal partial interface IDriverMigratePage
{
    /// <summary>Both pages locked; returns a migration code.</summary>
    [Preemptible]
    int MigratePage(int newpage, int page, MigrateMode mode);
}
