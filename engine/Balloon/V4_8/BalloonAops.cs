using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Balloon.V4_8;

/// <summary>
/// <c>balloon_aops</c> (v4.8 mm/balloon_compaction.c, b1123ea6d3b3 "mm: balloon: use general non-lru movable page
/// feature"; read on the v4.9.227 side of unicorn-soc-425's merge): the a_ops the driver installs on the balloon
/// inode's mapping, through which the generic migration core isolates, puts back and migrates balloon pages. All
/// the checks moved to the core (<c>isolate_movable_page</c>, <c>move_to_new_page</c>); what is left is the
/// balloon's list and its <c>isolated_pages</c>, and the call into the driver.
/// </summary>
[KernelPart("balloon migration", PartVersion.V4_8)]
internal sealed partial class BalloonAops(BalloonDevInfo dev, PageTable pages, PageLists lists, Sanitizer sanitizer, Scheduler scheduler)
    : IMovableMappingOps
{
    /// <summary>balloon_page_isolate (v4.8): under pages_lock, off the balloon list and <c>isolated_pages++</c>; always true.</summary>
    [Preemptible]
    public bool IsolatePage(int page, IsolateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("balloon_page_isolate");
        dev.PagesLock.Lock();
        lists.Del(page);
        dev.IsolatedPages++;
        dev.PagesLock.Unlock();
        return true;
    }

    /// <summary>balloon_page_putback (v4.8): under pages_lock, back at the head of the list and <c>isolated_pages--</c>; no reference change.</summary>
    [Preemptible]
    public void PutbackPage(int page)
    {
        using var _ = scheduler.Current.Path.Enter("balloon_page_putback");
        dev.PagesLock.Lock();
        lists.Add(page, dev.Pages);
        dev.IsolatedPages--;
        dev.PagesLock.Unlock();
    }

    /// <summary>
    /// balloon_page_migrate (v4.8): both pages locked (VM_BUG_ON_PAGE), then
    /// <c>balloon_page_device(page)-&gt;migratepage(balloon, newpage, page, mode)</c>, the driver's virtballoon_migratepage.
    /// </summary>
    [Preemptible]
    public int MigratePage(int newpage, int page, MigrateMode mode)
    {
        using var _ = scheduler.Current.Path.Enter("balloon_page_migrate");
        if (!pages.PageLocked(page) || !pages.PageLocked(newpage))
            sanitizer.Report(ReportKind.VmBug, page, $"VM_BUG_ON_PAGE(!PageLocked) in balloon_page_migrate: pfn {page} or newpage pfn {newpage} not locked");
        if (pages.Private[page] != BalloonDevInfo.Id)
        {
            sanitizer.Report(ReportKind.Kasan, page, $"BUG: unable to handle kernel NULL pointer dereference in balloon_page_migrate: page->private names no balloon_dev_info ({pages.DumpPage(page)})");
            return MigrateRc.EAgain;
        }
        return dev.MigratePage!.MigratePage(newpage, page, mode);
    }
}
