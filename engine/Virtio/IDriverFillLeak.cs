using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Virtio;

/// <summary>
/// The driver's fill_balloon / leak_balloon and what changed in virtballoon_migratepage with it: where the pages are
/// allocated and the "Out of puff!" msleep(200) slept relative to <c>vb-&gt;balloon_lock</c> (under it up to v4.14,
/// before it from c7cdff0e8647 as in 6.1), how leak_balloon hands its pages to the release, whether a migration to
/// another zone moves a managed page between the zones (6.1), and whether the old page leaves the balloon under
/// <c>pages_lock</c> (6.1).
/// </summary>
internal partial interface IDriverFillLeak
{
    /// <summary>
    /// fill_balloon(vb, num). In the kthread (<paramref name="inThread"/>) an "Out of puff!" sleep is a timer: −1 then,
    /// and <see cref="FillAfterSleep"/> finishes the call when it runs out. Otherwise the PFNs added.
    /// </summary>
    [Preemptible]
    int Fill(VirtioBalloon vb, long num, bool inThread);

    /// <summary>The rest of a fill_balloon call whose thread slept its 200 ms. Returns the PFNs added.</summary>
    [Preemptible]
    int FillAfterSleep(VirtioBalloon vb);

    /// <summary>leak_balloon(vb, num): the PFNs removed.</summary>
    [Preemptible]
    int Leak(VirtioBalloon vb, long num);

    /// <summary>virtballoon_migratepage's managed-page fix-up, after taking newpage (under balloon_lock).</summary>
    void MigratepageManagedPages(VirtioBalloon vb, int newpage, int page);

    /// <summary>virtballoon_migratepage's second step, balloon_page_delete of the old page (under balloon_lock).</summary>
    [Preemptible]
    void MigratepageDeletePage(VirtioBalloon vb, int page);

    /// <summary>PFNs a sleeping fill_balloon has put in the balloon but not yet told the host about.</summary>
    ReadOnlySpan<long> UntoldPfns(VirtioBalloon vb);
}
