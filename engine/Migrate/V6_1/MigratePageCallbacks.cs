using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Swap;

namespace BalloonScript.Engine.Migrate.V6_1;

/// <summary>
/// The generic migratepage callbacks as 6.1 has them (migrate_folio, folio_migrate_mapping, folio_migrate_flags): v4.8's,
/// except that folio_migrate_flags also carries PG_readahead over ("if (folio_test_readahead(folio))
/// folio_set_readahead(newfolio)"), so a swap-cache page read ahead keeps its readahead hit through a migration, and
/// PG_workingset (which v4.8 does not have).
/// </summary>
internal sealed class MigratePageCallbacks(PageTable pages, Node node, Rmap rmap, MappingTable mappings, SwapArea swap, Sanitizer sanitizer,
    Host.RamBlock ram)
    : V4_8.MigratePageCallbacks(pages, node, rmap, mappings, swap, sanitizer, ram)
{
    protected override PG CopiedFlags => base.CopiedFlags | PG.Readahead | PG.Workingset;
}
