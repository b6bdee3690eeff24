using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Swap;

namespace BalloonScript.Engine.Migrate.V4_8;

/// <summary>
/// The generic migratepage callbacks as v4.8 has them: v3.16's, except that since 4.4 ("mm: migrate dirty page without
/// clear_page_dirty_for_io etc") migrate_page_move_mapping moves PG_dirty itself while the references are frozen, and
/// moves NR_FILE_DIRTY only when the page changes zone (per node in 4.8; per zone with the v3.16 zone statistics this
/// design borrows): the page is not dirtied anew, so nr_dirtied does not count it. 6.1's folio_migrate_mapping does the
/// same.
/// </summary>
internal class MigratePageCallbacks(PageTable pages, Node node, Rmap rmap, MappingTable mappings, SwapArea swap, Sanitizer sanitizer,
    Host.RamBlock ram)
    : V3_16.MigratePageCallbacks(pages, node, rmap, mappings, swap, sanitizer, ram)
{
    protected override void MoveDirty(int newpage, int page) => MoveDirtyFlag(newpage, page);
}
