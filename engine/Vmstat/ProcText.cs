using System.Text;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Vmstat;

/// <summary>The text of /proc/buddyinfo, /proc/pagetypeinfo and debugfs extfrag files, byte for byte as
/// v3.16 mm/vmstat.c prints them (node 0 only).</summary>
internal sealed class ProcText(Node node, PageLists lists)
{
    /// <summary>frag_show_print: <c>"Node %d, zone %8s "</c> then <c>"%6lu "</c> per order.</summary>
    public string Buddyinfo()
    {
        var sb = new StringBuilder();
        foreach (var z in node.Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int o = 0; o < Zone.MaxOrder; o++) sb.Append($"{z.NrFree[o],6} ");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>pagetypeinfo_show: header, free list lengths per type and order, pageblock counts per type.</summary>
    public string Pagetypeinfo()
    {
        var sb = new StringBuilder();
        sb.Append($"Page block order: {Zone.PageblockOrder}\n");
        sb.Append($"Pages per block:  {Zone.PageblockNrPages}\n\n");
        sb.Append($"{"Free pages count per migrate type at order",-43} ");
        for (int o = 0; o < Zone.MaxOrder; o++) sb.Append($"{o,6} ");
        sb.Append('\n');
        foreach (var z in node.Zones)
            for (int mt = 0; mt < MigrateType.Count; mt++)
            {
                sb.Append($"Node {0,4}, zone {z.Name,8}, type {MigrateType.Names[mt],12} ");
                for (int o = 0; o < Zone.MaxOrder; o++) sb.Append($"{lists.Count(z.FreeList(o, mt), "pagetypeinfo_showfree_print"),6} ");
                sb.Append('\n');
            }
        sb.Append($"\n{"Number of blocks type ",-23}");
        for (int mt = 0; mt < MigrateType.Count; mt++) sb.Append($"{MigrateType.Names[mt],12} ");
        sb.Append('\n');
        foreach (var z in node.Zones)
        {
            var count = new long[MigrateType.Count];
            foreach (byte mt in z.PageblockMigratetype) count[mt]++;
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int mt = 0; mt < MigrateType.Count; mt++) sb.Append($"{count[mt],12} ");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>/sys/kernel/debug/extfrag/extfrag_index.</summary>
    public string ExtfragIndex() => PerOrder(Fragmentation.ZoneIndex);

    /// <summary>/sys/kernel/debug/extfrag/unusable_index.</summary>
    public string UnusableIndex() => PerOrder(Fragmentation.ZoneUnusable);

    private string PerOrder(Func<Zone, int, int> index)
    {
        var sb = new StringBuilder();
        foreach (var z in node.Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8} ");
            for (int o = 0; o < Zone.MaxOrder; o++) sb.Append(Fragmentation.Format(index(z, o))).Append(' ');
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
